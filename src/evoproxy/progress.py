"""Progress reporting for long steps (GP generations, extraction, NAS).

On a terminal it draws a rich progress bar; elsewhere (CI, cluster logs, pipes) it degrades to plain log lines at
most every ``log_every`` seconds, so logs stay readable.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from types import TracebackType

log = logging.getLogger("evoproxy.progress")


class Progress:
    """``with Progress(total, "evolve") as p: p.advance(1, best=0.61)`` — bar on a TTY, log lines otherwise."""

    def __init__(self, total: int | None, desc: str, unit: str = "it", log_every: float = 10.0,
                 enabled: bool = True) -> None:
        self.total, self.desc, self.unit, self.log_every = total, desc, unit, log_every
        self.done = 0
        self.enabled = enabled
        self._tty = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._start = time.perf_counter()
        self._last_log = self._start

    def __enter__(self) -> Progress:
        if self._tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[info]}"), TimeElapsedColumn(), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.desc, total=self.total, info="")
        return self

    def advance(self, n: int = 1, **info: object) -> None:
        """Record ``n`` more units done; ``info`` (e.g. best fitness) is shown beside the bar or in the log line."""
        self.done += n
        text = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
        if self._bar is not None:
            self._bar.update(self._task, advance=n, info=text)
            return
        now = time.perf_counter()
        if self.enabled and (now - self._last_log >= self.log_every or (self.total and self.done >= self.total)):
            rate = self.done / max(now - self._start, 1e-9)
            of = f"/{self.total}" if self.total else ""
            log.info("%s: %d%s %s (%.2f %s/s) %s", self.desc, self.done, of, self.unit, rate, self.unit, text)
            self._last_log = now

    @property
    def rate(self) -> float:
        """Units per second so far."""
        return self.done / max(time.perf_counter() - self._start, 1e-9)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()


def track(iterable, total: int | None = None, desc: str = "", unit: str = "it") -> Iterator:  # noqa: ANN001
    """Iterate with progress (a thin wrapper over :class:`Progress`)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with Progress(total, desc, unit) as p:
        for item in iterable:
            yield item
            p.advance(1)
