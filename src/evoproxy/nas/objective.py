"""NAS objectives: a saved formula (or one hand-crafted proxy, or ``random``) -> the score of an architecture.

- :class:`LookupObjective`: proxies read from an ingested ProblemTable. The formula is evaluated once over the whole
  table with ``Formula.evaluate_table`` (the same evaluator and terminal transform as scoring/reporting; a ``rank``
  transform ranks over the whole table); an arch missing from the table is skipped (``None``) and counted in
  ``missing``.
- :class:`OnlineObjective`: only the proxies the formula needs are computed for each candidate by the extraction
  stage (``evoproxy.extract.ProxyEvaluator``: a freshly initialised network, one minibatch, on cpu or cuda), the
  formula's row-wise transform (``none``, ``signed_log``) is applied; a ``rank`` formula is refused (it needs a
  population).
- :class:`RandomObjective`: a seeded pseudo-random score per arch; any search with it returns a uniformly random
  architecture (the "random" baseline row of the NAS table).

Scores are higher-is-better. Ground truth never enters an objective.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from evoproxy import PROXIES
from evoproxy.problems import ProblemTable


class Scorer(Protocol):
    """What an objective needs from a formula (``evoproxy.sr.formula.Formula`` satisfies it)."""

    proxies: Any

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray: ...


RANDOM = "random"


def resolve_objective(spec: str) -> tuple[str, Scorer | None, dict[str, Any]]:
    """Turn ``--objective`` into ``(name, formula, info)``.

    ``spec`` is a proxy name (one of :data:`evoproxy.PROXIES`), ``random`` (formula ``None``), or the path of a
    saved FormulaRun JSON. ``info`` records what the objective is (for the result file).
    """
    if spec == RANDOM:
        return RANDOM, None, {"spec": spec, "kind": "random", "proxies": []}
    if spec in PROXIES:
        formula = _single_proxy(spec)
        return spec, formula, {"spec": spec, "kind": "proxy", "proxies": [spec], "text": spec}
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(
            f"objective {spec!r} is neither a proxy name ({', '.join(PROXIES)}), nor 'random', "
            f"nor an existing formula file")
    from evoproxy.sr.formula import load_formula

    formula = load_formula(path)
    info: dict[str, Any] = {"spec": str(path), "kind": "formula", "proxies": list(formula.proxies)}
    for attr in ("text", "ast"):
        value = getattr(formula, attr, None)
        if value is not None:
            info[attr] = value if isinstance(value, (str, list)) else str(value)
    preset = ((formula.run or {}).get("config") or {}).get("preset", "recommended")
    name = path.stem if path.stem != "best" else ("evolved" if preset == "recommended" else f"evolved_{preset}")
    return name, formula, info


class _SingleProxy:
    """A one-proxy formula (identity), used only when the SR package is not importable."""

    def __init__(self, name: str) -> None:
        self.proxies = (name,)

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(columns[self.proxies[0]], dtype=np.float64)


def _single_proxy(name: str) -> Scorer:
    """``Formula.from_ast(["proxy", name])`` (the one evaluator of every consumer), or the identity without SR."""
    try:
        from evoproxy.sr.formula import Formula
    except ImportError:
        return _SingleProxy(name)
    return Formula.from_ast(["proxy", name])


class LookupObjective:
    """Score archs by reading their proxies from a ProblemTable; archs outside the table are skipped."""

    def __init__(self, formula: Scorer, table: ProblemTable, where: str | os.PathLike[str] = "") -> None:
        where = str(where) or table.id
        have = set(table.proxies)
        need = list(formula.proxies)
        missing = [p for p in need if p not in have]
        if missing:
            raise ValueError(f"{where}: lookup mode needs proxies {need} but the table lacks {missing} "
                             f"(it has {sorted(have)})")
        t = time.perf_counter()
        if hasattr(formula, "evaluate_table"):  # applies the run's terminal transform (rank: over this table)
            scores = np.asarray(formula.evaluate_table(table), dtype=np.float64)
        else:
            scores = np.asarray(formula.evaluate({p: table.values(p) for p in need}), dtype=np.float64)
        if scores.shape != (table.n,):
            raise ValueError(f"{where}: formula returned shape {scores.shape}, expected ({table.n},)")
        self.setup_seconds = time.perf_counter() - t
        self.scores: dict[str, float] = dict(zip(table.df["arch"].astype(str), scores.tolist(), strict=True))
        self.missing = 0
        self.n_table = table.n
        self.nonfinite = int((~np.isfinite(scores)).sum())

    def __call__(self, arch: str) -> float | None:
        score = self.scores.get(arch)
        if score is None:
            self.missing += 1
        return score


REFERENCE_SIZE = 64
"""Random archs whose proxies calibrate an ``ecdf`` formula or an ensemble in online mode (computed at start-up)."""


class OnlineObjective:
    """Compute the formula's proxies for each candidate with an online proxy evaluator, then the formula.

    A calibrated scorer (``ecdf`` formula, ensemble or gated proxy) scores each candidate against a reference sample:
    the proxies of ``reference_size`` seeded random archs of the space, computed once at start-up
    (``reference_seconds``), so a candidate's score never depends on which other candidates the search has seen. A
    gated proxy then computes for each candidate only the proxies of the components its gate weighs above 0."""

    def __init__(self, formula: Scorer, evaluator: Any, reference_size: int = REFERENCE_SIZE, seed: int = 0) -> None:
        self.transform = str(getattr(formula, "transform", "none"))
        if self.transform == "rank":
            raise ValueError("the formula was evolved on rank-transformed proxies (ranks over the evaluated table); "
                             "online mode scores one arch at a time: use --mode lookup, or an 'ecdf' formula, which "
                             "is calibrated on a reference sample")
        self.formula, self.evaluator = formula, evaluator
        self.proxies = list(formula.proxies)
        self.proxy_seconds: dict[str, float] = {}
        self.failures = 0
        self.reference = None
        self.reference_seconds = 0.0
        self.reference_archs: list[str] = []
        if self.transform == "ecdf":
            if not hasattr(evaluator, "reference_sample") or reference_size < 2:
                raise ValueError("a calibrated formula needs a reference sample in online mode: an evaluator with "
                                 "reference_sample() and a reference size >= 2")
            t = time.perf_counter()
            self.reference = evaluator.reference_sample(reference_size, self.proxies, seed)
            self.reference_archs = list(self.reference.archs)
            self.reference_seconds = time.perf_counter() - t
            if hasattr(formula, "proxies_for"):  # a gated proxy: only the components this space's reference wakes
                self.proxies = list(formula.proxies_for(self.reference))

    def _values(self, arch: str) -> dict[str, float]:
        if hasattr(self.evaluator, "evaluate_detailed"):
            res = self.evaluator.evaluate_detailed(arch, self.proxies)
            values, times = res.values, res.times
        else:
            values, times = self.evaluator.evaluate(arch, self.proxies), {}
        for p, spent in times.items():
            self.proxy_seconds[p] = self.proxy_seconds.get(p, 0.0) + float(spent)
        return values

    def __call__(self, arch: str) -> float | None:
        values = self._values(arch)
        if hasattr(self.formula, "score_values"):
            score = self.formula.score_values(values, self.reference)
        else:
            cols = {p: np.asarray([values.get(p, math.nan)], dtype=np.float64) for p in self.proxies}
            score = float(np.asarray(self.formula.evaluate(cols), dtype=np.float64).reshape(-1)[0])
        if not math.isfinite(score):
            self.failures += 1
        return score


class RandomObjective:
    """A reproducible uniform score per (seed, arch): searching it returns a uniformly random architecture."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, arch: str) -> float:
        digest = hashlib.sha256(f"{self.seed}|{arch}".encode()).digest()
        return int.from_bytes(digest[:8], "little") / 2.0**64
