"""Primitive extraction: search space + architectures + one image minibatch -> a ProblemTable of proxy values.

``extract(evaluator, archs, ...)`` computes the requested proxies for many architectures into ``results/primitives/<space>__<dataset>
.parquet`` (resumable, progress with archs/s, CUDA OOM -> batch split). ``ProxyEvaluator`` is the same machinery for
one architecture at a time, for NAS that scores new candidates online: it loads the minibatch once, keeps it on the
device, and builds each network with a seed derived from (seed, space, arch), so an arch gets the same values
whenever and in whatever order it is evaluated. ``fill(...)`` merges computed proxies into a benchmark table that
lacks them.

The protocol follows the release: per (space, dataset) the batch size NAS-Bench-Suite-Zero used
(:data:`RELEASE_BATCH_SIZE`), the task's network, input and loss (TransNAS-Bench-101 tasks included), and no images at
all when only data-free proxies are asked for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from evoproxy import PROXIES
from evoproxy.problems import ProblemTable, load_table, save_table
from evoproxy.progress import Progress
from evoproxy.proxies import ProxyResult, compute_detailed, resolve
from evoproxy.spaces.base import IMAGE_TASKS, TaskSpec

log = logging.getLogger(__name__)

NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
"""Output classes of the image tasks the NB101 / NB201 / NB301 networks are built for."""

DEFAULT_BATCH_SIZE = 32
"""NASLib's zero-cost configuration (``naslib/runners/zc/zc_config.yaml``: ``batch_size: 32``)."""

RELEASE_BATCH_SIZE: dict[tuple[str, str], int] = {
    ("nb201", "cifar10"): 64,
    ("nb201", "ImageNet16-120"): 64,
    ("nb201", "cifar100"): 32,
    ("nb101", "cifar10"): 32,
    ("nb301", "cifar10"): 32,
    **{(space, task): 32 for space in ("tnb101_micro", "tnb101_macro")
       for task in ("class_scene", "class_object", "jigsaw", "room_layout")},
}
"""The minibatch size NAS-Bench-Suite-Zero computed each (space, dataset)'s proxies with. Evidence: jacov is at most
-N for N images (-sum(log v + 1/v) over the N eigenvalues of a correlation matrix, whose trace is N) and near -N for
nets with little input correlation, so the largest released jacov pins N: -64.95 (nb201/cifar10), -68.56
(nb201/ImageNet16-120), -32.22 (nb201/cifar100), -32.16 (nb101), -32.18 (nb301), -32.01 or -32.02 on all eight
TransNAS-Bench-101 tasks (mirror of the release). Other (space, dataset) pairs, e.g. the TNB pixel-level tasks,
which the release does not cover, get NASLib's configured 32."""

DATA_FREE_PASSES = frozenset({"weights", "stats", "synflow", "zen"})
"""Passes that read only the shape of the minibatch (params, flops, l2_norm, synflow, zen need no images)."""


class ExtractError(ValueError):
    """Bad extraction input (archs file, resume target, settings)."""


def release_batch_size(space: str, dataset: str) -> int:
    """The batch size of the release's protocol for ``space`` / ``dataset`` (:data:`RELEASE_BATCH_SIZE`)."""
    from evoproxy.spaces import ALIASES

    return RELEASE_BATCH_SIZE.get((ALIASES.get(space, space), dataset), DEFAULT_BATCH_SIZE)


def _pass_needs_data(name: str) -> bool:
    from evoproxy.proxies import registry

    spec = getattr(registry, "PASS_REGISTRY", {}).get(name)
    return bool(spec.needs_data) if spec is not None else name not in DATA_FREE_PASSES


def needs_data(names: Iterable[str] | str | None) -> bool:
    """Whether any of the proxies needs real images and labels (a pass that reads more than the batch shape)."""
    from evoproxy.proxies import REGISTRY

    return any(_pass_needs_data(p) for n in resolve(names) for p in REGISTRY[n].needs)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without a GPU is an error (not a silent CPU run)."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ExtractError(f"device {device!r} requested but CUDA is not available (use --device cpu or auto)")
    return dev


def device_label(dev: torch.device) -> str:
    """Device with the GPU's name, for table metadata."""
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    return str(dev)


def arch_seed(seed: int, space: str, arch: str) -> int:
    """The weight-init seed of one architecture: depends only on (seed, space, canonical arch)."""
    digest = hashlib.sha256(f"{space}|{arch}|{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def _get_space(space: Any) -> Any:
    if not isinstance(space, str):
        return space
    from evoproxy.spaces import get_space

    return get_space(space)


def _space_name(space: Any) -> str:
    return space if isinstance(space, str) else getattr(space, "name", type(space).__name__)


def _task_spec(space: Any, dataset: str, num_classes: int | None) -> TaskSpec:
    """The space's :class:`TaskSpec` of ``dataset``; for spaces without task specs, the CIFAR-style image task."""
    if hasattr(space, "task"):
        try:
            return space.task(dataset)
        except ValueError as exc:
            if num_classes is None:
                raise ExtractError(str(exc)) from exc
    if dataset in IMAGE_TASKS:
        return IMAGE_TASKS[dataset]
    if num_classes is None:
        raise ExtractError(f"unknown dataset {dataset!r}: expected one of {sorted(NUM_CLASSES)}")
    return TaskSpec(dataset, (3, 32, 32), num_classes)


def proxy_labels(task: TaskSpec, targets: torch.Tensor | None) -> torch.Tensor | None:
    """The class labels epe_nas groups samples by: the targets themselves for integer labels, their argmax for soft
    class distributions and room-layout vectors (NASLib's "hack to handle TNB101 classification tasks"), ``None``
    for pixel-level targets, on which NASLib's epe_nas fails (its release value is the NaN sentinel)."""
    if targets is None or task.target in ("class", "permutation"):
        return targets
    if task.target in ("soft", "regression"):
        return targets.argmax(dim=1)
    return None


def _merge(parts: list[ProxyResult], names: list[str]) -> ProxyResult:
    values = {k: v for p in parts for k, v in p.values.items()}
    times = {k: v for p in parts for k, v in p.times.items()}
    passes = list(dict.fromkeys(x for p in parts for x in p.passes))
    return ProxyResult({n: values[n] for n in names}, {n: times[n] for n in names}, passes,
                       max(p.split_data for p in parts))


class ProxyEvaluator:
    """Proxies of single architectures of one search space and task on one fixed minibatch (kept on the device).

    ``ProxyEvaluator("nb201", "cifar10", seed=0, device="auto", data_file=None)
    .evaluate("(2, 2, 3, 0, 4, 1)", ["nwot", "synflow"]) -> {"nwot": ..., "synflow": ...}``

    ``batch_size`` defaults to the release's (:func:`release_batch_size`). The minibatch is loaded on first use by a
    proxy that needs images, so data-free proxies (params, flops, l2_norm, synflow, zen) run without any data: they
    get a placeholder batch of the task's input shape (they read only its shape; their values are the same as with
    real images). The loss and the labels follow the task: the space's ``loss_fn(task)`` (e.g. soft-label
    cross-entropy on TransNAS-Bench-101 class_*), and epe_nas gets :func:`proxy_labels`.
    """

    def __init__(
        self,
        space: Any,
        dataset: str = "cifar10",
        batch_size: int | None = None,
        seed: int = 0,
        device: str | torch.device = "auto",
        data_file: str | os.PathLike[str] | None = None,
        root: str | os.PathLike[str] | None = None,
        num_classes: int | None = None,
        inputs: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> None:
        self.space = _get_space(space)
        self.space_name = _space_name(space)
        self.dataset = dataset
        self.task = _task_spec(self.space, dataset, num_classes)
        registered = getattr(self.space, "name", "") or self.space_name
        self.batch_size = int(batch_size) if batch_size is not None else release_batch_size(registered, dataset)
        if self.batch_size < 1:
            raise ExtractError(f"batch size must be >= 1, got {self.batch_size}")
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.num_classes = num_classes if num_classes is not None else self.task.num_outputs
        self._custom_classes = num_classes is not None
        self.data_file, self.root = data_file, root
        self._inputs = None if inputs is None else inputs.to(self.device)
        self._targets = None if targets is None else targets.to(self.device)
        self._placeholder: torch.Tensor | None = None
        loss = getattr(self.space, "loss_fn", None)
        self.loss_fn = loss(dataset) if callable(loss) and hasattr(self.space, "task") else None
        self.max_split = 1

    def _load(self) -> None:
        if self._inputs is not None:
            return
        from evoproxy.data import load_task_batch

        kwargs = {} if self.root is None else {"root": self.root}
        x, y = load_task_batch(self.dataset, self.batch_size, self.seed, data_file=self.data_file, **kwargs)
        self._inputs, self._targets = x.to(self.device), y.to(self.device)

    @property
    def inputs(self) -> torch.Tensor:
        """The minibatch (loaded on first access)."""
        self._load()
        return self._inputs

    @property
    def targets(self) -> torch.Tensor | None:
        """The minibatch's labels (loaded on first access)."""
        self._load()
        return self._targets

    def placeholder(self) -> torch.Tensor:
        """A zero batch of the task's input shape, for proxies that read only the shape (the real one if loaded)."""
        if self._inputs is not None:
            return self._inputs
        if self._placeholder is None:
            self._placeholder = torch.zeros((self.batch_size, *self.task.input_shape), device=self.device)
        return self._placeholder

    def canonical(self, arch: Any) -> str:
        return self.space.canonical(arch)

    def model(self, arch: Any) -> torch.nn.Module:
        """The network of ``arch`` for the task, with weights seeded by :func:`arch_seed`, on the device."""
        arch = self.canonical(arch)
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(arch_seed(self.seed, self.space_name, arch))
            if hasattr(self.space, "model_for"):
                net = self.space.model_for(arch, self.dataset,
                                           num_classes=self.num_classes if self._custom_classes else None)
            else:
                net = self.space.to_model(arch, num_classes=self.num_classes)
        return net.to(self.device)

    def evaluate_detailed(self, arch: Any, names: Iterable[str] | str | None = None) -> ProxyResult:
        """Values, per-proxy seconds and passes of ``arch``."""
        names = resolve(names)
        net = self.model(arch)
        if not needs_data(names):
            res = compute_detailed(net, self.placeholder(), None, names, seed=self.seed)
        else:
            labels = proxy_labels(self.task, self.targets)
            if "epe_nas" not in names or labels is self.targets:
                res = compute_detailed(net, self.inputs, self.targets, names, self.loss_fn, seed=self.seed)
            else:
                res = self._split_labels(net, names, labels)
        self.max_split = max(self.max_split, res.split_data)
        return res

    def _split_labels(self, net: torch.nn.Module, names: list[str], labels: torch.Tensor | None) -> ProxyResult:
        """epe_nas groups samples by class labels while the loss needs the task's own targets: epe_nas (with the
        proxies that read no labels, sharing its pass) on ``labels``, the rest on the targets; ``labels`` None gives
        epe_nas NaN, as NASLib's epe_nas fails on pixel-level targets."""
        from evoproxy.proxies import REGISTRY

        free = set(REGISTRY["epe_nas"].needs) | set(REGISTRY["nwot"].needs)
        first = [] if labels is None else [
            n for n in names if n == "epe_nas" or all(p in free or not _pass_needs_data(p) for p in REGISTRY[n].needs)]
        rest = [n for n in names if n not in first and n != "epe_nas"]
        parts = []
        if rest:
            parts.append(compute_detailed(net, self.inputs, self.targets, rest, self.loss_fn, seed=self.seed))
        if labels is None:
            parts.append(ProxyResult({"epe_nas": math.nan}, {"epe_nas": 0.0}, [], 1))
        else:
            parts.append(compute_detailed(net, self.inputs, labels, first, seed=self.seed))
        return _merge(parts, names)

    def evaluate(self, arch: Any, names: Iterable[str] | str | None = None) -> dict[str, float]:
        """``{proxy: value}`` of ``arch`` (default: all 13 proxies)."""
        return self.evaluate_detailed(arch, names).values

    def reference_sample(self, size: int, names: Iterable[str] | str | None = None, seed: int = 0) -> Any:
        """The proxies of ``size`` seeded random archs of the space, as columns (a
        :class:`~evoproxy.sr.formula.ColumnTable`, its ``archs`` the sampled archs): the reference that calibrates an
        ``ecdf`` formula or an ensemble when it scores one architecture. The same seed gives the same archs."""
        from evoproxy.sr.formula import ColumnTable

        if size < 2:
            raise ExtractError(f"a reference sample needs at least 2 archs, got {size}")
        wanted = resolve(names)
        archs = [self.canonical(a) for a in self.space.sample(int(size), int(seed))]
        rows = [self.evaluate(a, wanted) for a in archs]
        return ColumnTable({p: np.array([r.get(p, math.nan) for r in rows], dtype=np.float64) for p in wanted}, archs)


# ------------------------------------------------------------------------------------------------- arch selection
def read_arch_file(path: str | os.PathLike[str]) -> list[str]:
    """Archs from a text file (one per line, ``#`` comments and blank lines skipped) or a Parquet ``arch`` column."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--archs file {path} does not exist")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            cols = pq.read_schema(path).names
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error
            raise ExtractError(f"{path}: not a readable Parquet file ({exc})") from exc
        if "arch" not in cols:
            raise ExtractError(f"{path}: Parquet file has no 'arch' column (columns: {', '.join(cols)})")
        return [str(a) for a in pq.read_table(path, columns=["arch"]).column("arch").to_pylist()]
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def select_archs(space: Any, archs: str | int | Sequence[Any], seed: int = 0) -> list[str]:
    """``'all'`` (enumerate the space), ``N`` / ``'N'`` (a seeded sample of N), a file path, or a list of archs;
    canonicalised, duplicates dropped (first kept)."""
    space = _get_space(space)
    if isinstance(archs, str) and archs == "all":
        raw: Sequence[Any] = list(space.enumerate())
        where = "space enumeration"
    elif isinstance(archs, int) or (isinstance(archs, str) and archs.isdigit()):
        raw = list(space.sample(int(archs), seed))
        where = "sample"
    elif isinstance(archs, (str, os.PathLike)):
        raw = read_arch_file(archs)
        where = str(archs)
    else:
        raw = list(archs)
        where = "arch list"
    out: list[str] = []
    seen: set[str] = set()
    for i, a in enumerate(raw, start=1):
        try:
            c = space.canonical(a)
        except ValueError as exc:
            raise ExtractError(f"{where}: entry {i} ({a!r}) is not a valid arch: {exc}") from exc
        if c not in seen:
            seen.add(c)
            out.append(c)
    if not out:
        raise ExtractError(f"{where}: no architectures selected")
    return out


# ------------------------------------------------------------------------------------------------------ the table
def _journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


def _read_journal(path: Path) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by a kill: the arch in flight, recomputed
    return rows


def _frame(rows: list[dict], proxies: list[str]) -> pd.DataFrame:
    """The 13 release proxies' columns (NaN where not computed), then any other registered proxy computed here (an
    extra column, listed in the table's ``extra_columns``), then the time columns."""
    cols: dict[str, Any] = {"arch": pd.Series([r["arch"] for r in rows], dtype=object)}
    for p in [*PROXIES, *(q for q in proxies if q not in PROXIES)]:
        vals = [r["values"].get(p, math.nan) for r in rows]
        cols[p] = pd.Series([v if v is not None and math.isfinite(v) else math.nan for v in vals], dtype=np.float64)
    for p in proxies:
        cols[f"time_{p}"] = pd.Series([r["times"].get(p, math.nan) for r in rows], dtype=np.float64)
    return pd.DataFrame(cols)


def _check_resume(meta: dict, expect: dict, path: Path) -> None:
    for key in ("space", "task", "batch_size", "seed"):
        if key in meta and meta[key] != expect[key]:
            raise ExtractError(f"{path}: existing table has {key}={meta[key]!r} but this run asks for "
                               f"{expect[key]!r}; use another --out or the same settings to resume")
    missing = [p for p in expect["computed_proxies"] if p not in meta.get("computed_proxies", [])]
    if missing:
        raise ExtractError(f"{path}: existing table lacks proxies {missing}; use another --out to compute them")


def extract(
    evaluator: ProxyEvaluator,
    archs: str | int | Sequence[Any],
    proxies: Iterable[str] | str | None = "all",
    out: str | os.PathLike[str] = "primitives.parquet",
    checkpoint_every: int = 200,
    progress: bool = True,
) -> ProblemTable:
    """Compute ``proxies`` for ``archs`` of the evaluator's space on its minibatch and write a ProblemTable to
    ``out`` (no accuracy column; metadata device, torch, batch_size, seed, computed_proxies, space, task).

    The evaluator is the one place of the extraction's settings (space, dataset, batch size, seed, device, data):
    ``extract(ProxyEvaluator("nb201", "cifar10", data_file=...), "all")``. Data-free proxies need no data file (no
    images are read or downloaded when every requested proxy is data-free).

    Resumable: each finished arch is appended (and flushed) to ``<out>.journal.jsonl``; the Parquet is rewritten
    atomically every ``checkpoint_every`` archs and at the end, when the journal is removed. Re-running skips the
    archs already in ``out`` or the journal, so a killed run loses at most the arch in flight.
    """
    names = resolve(proxies)
    out = Path(out)
    ev = evaluator
    dataset, batch_size, seed, data_file = ev.dataset, ev.batch_size, ev.seed, ev.data_file
    todo_all = select_archs(ev.space, archs, seed)
    meta = {
        "space": ev.space_name,
        "task": dataset,
        "source": "evoproxy extract",
        "device": device_label(ev.device),
        "torch": torch.__version__,
        "batch_size": int(batch_size),
        "seed": int(seed),
        "computed_proxies": names,
        "data_file": str(data_file) if data_file else None,
    }
    rows: list[dict] = []
    if out.exists():
        old = load_table(out, require_target=False)
        _check_resume(old.meta, meta, out)
        for rec in old.df.to_dict("records"):
            rows.append({"arch": rec["arch"], "values": {p: rec[p] for p in names},
                         "times": {p: rec.get(f"time_{p}", math.nan) for p in names}})
    journal = _journal_path(out)
    done = {r["arch"] for r in rows}
    for r in _read_journal(journal):
        if r["arch"] not in done:
            rows.append(r)
            done.add(r["arch"])
    todo = [a for a in todo_all if a not in done]
    if done:
        log.info("%s: resuming, %d archs already done, %d to compute", out, len(todo_all) - len(todo), len(todo))
    out.parent.mkdir(parents=True, exist_ok=True)

    def write() -> ProblemTable:
        df = _frame(rows, names)
        nonfinite = {p: int(sum(1 for r in rows if not _finite(r["values"].get(p)))) for p in names}
        table = ProblemTable(ev.space_name, dataset, df, {
            **meta, "absent_proxies": [p for p in PROXIES if p not in names], "nonfinite_counts": nonfinite,
            "extra_columns": [p for p in names if p not in PROXIES],
            "split_data_max": ev.max_split,
        })
        save_table(table, out)
        return table

    since = 0
    with Progress(len(todo), f"extract {ev.space_name}/{dataset}", unit="arch", enabled=progress) as bar, \
            journal.open("a") as jf:
        for arch in todo:
            res = ev.evaluate_detailed(arch, names)
            row = {"arch": arch, "values": res.values, "times": res.times}
            jf.write(json.dumps(row) + "\n")
            jf.flush()
            os.fsync(jf.fileno())
            rows.append(row)
            done.add(arch)
            since += 1
            bar.advance(1, archs_per_s=round(bar.rate, 2))
            if since >= checkpoint_every:
                write()
                since = 0
    table = write()
    journal.unlink(missing_ok=True)
    return table


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


# ------------------------------------------------------------------------------------------------------------ fill
def fill(
    table_path: str | os.PathLike[str],
    primitives_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    proxies: Iterable[str] | str | None = None,
    overwrite: bool = False,
) -> ProblemTable:
    """Merge computed proxies into a problem table: each proxy of ``primitives_path`` (or of ``proxies``) that the
    table lacks (absent or all-NaN; any with ``overwrite``) is copied by arch, with its ``time_<proxy>``; the
    metadata lists them in ``computed_proxies`` with the extraction's device, torch, batch size and seed."""
    table = load_table(table_path)
    prim = load_table(primitives_path, require_target=False)
    if prim.space != table.space:
        raise ExtractError(f"{primitives_path}: primitives are for space {prim.space!r}, "
                           f"table {table_path} is {table.space!r}")
    if prim.task != table.task:
        log.warning("filling %s (task %s) with proxies computed on %s images", table.id, table.task, prim.task)
    computed = prim.meta.get("computed_proxies") or [p for p in PROXIES if p in prim.proxies]
    candidates = resolve(proxies) if proxies not in (None, "all") else computed
    not_there = [p for p in candidates if p not in computed]
    if not_there:
        raise ExtractError(f"{primitives_path}: proxies {not_there} were not computed there (has {computed})")
    lacking = [p for p in candidates
               if overwrite or p not in table.df.columns or not np.isfinite(table.values(p)).any()]
    df = table.df.copy()
    by_arch = prim.df.set_index("arch")
    missing = [a for a in df["arch"] if a not in by_arch.index]
    if lacking and missing:
        raise ExtractError(f"{primitives_path}: lacks {len(missing)} of the {len(df)} archs of {table_path} "
                           f"(e.g. {missing[0]!r}); extract them with --archs {table_path}")
    for p in lacking:
        df[p] = by_arch.loc[df["arch"], p].to_numpy(dtype=np.float64)
        if f"time_{p}" in by_arch.columns:
            df[f"time_{p}"] = by_arch.loc[df["arch"], f"time_{p}"].to_numpy(dtype=np.float64)
    meta = dict(table.meta)
    prev = list(meta.get("computed_proxies", []))
    meta["computed_proxies"] = prev + [p for p in lacking if p not in prev]
    meta["absent_proxies"] = [p for p in meta.get("absent_proxies", []) if p not in lacking]
    counts = dict(meta.get("nonfinite_counts", {}))
    for p in lacking:
        counts[p] = int((~np.isfinite(df[p].to_numpy(dtype=float))).sum())
    meta["nonfinite_counts"] = counts
    meta["filled_from"] = {
        "file": str(primitives_path),
        **{k: prim.meta.get(k) for k in ("device", "torch", "batch_size", "seed", "task")},
    }
    result = ProblemTable(table.space, table.task, df, meta)
    save_table(result, out)
    if not lacking:
        log.info("%s: lacks none of %s; written unchanged", table_path, candidates)
    return result
