"""ProblemTable: one NAS problem (search space x task) as a Parquet table, plus seeded train/test splits.

Shape (see DESIGN.md): ``arch`` (canonical string, unique), one float64 column per proxy (NaN where absent or
non-finite), ``val_accuracy`` (float64, higher is better; absent in extracted tables), optional ``time_<proxy>``.
Key-value metadata is stored JSON-encoded under the Parquet schema metadata.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evoproxy import PROXIES
from evoproxy.fileio import atomic_path
from evoproxy.release.names import ACCURACY_TABLE as ACCURACY_TABLE  # re-exported
from evoproxy.schema import defaults

log = logging.getLogger(__name__)

TARGET = "val_accuracy"

MISSING_MAGNITUDE = 1e8
"""A proxy value at or beyond this magnitude marks "missing" in the release: NASLib stored NaN scores as -1e8.
The largest real value in NAS-Bench-Suite-Zero is about 2.4e6 (grasp), so nothing real is lost."""


def proxy_value(value: float | None) -> float:
    """The table-value rule: a proxy value that is null, NaN, +/-inf or at or beyond :data:`MISSING_MAGNITUDE` in
    magnitude (the release's sentinel) is missing, stored as NaN; everything else is kept as float64."""
    if value is None:
        return math.nan
    v = float(value)
    return v if math.isfinite(v) and abs(v) < MISSING_MAGNITUDE else math.nan


def is_sentinel(value: float | None) -> bool:
    """True for a finite value that the table-value rule treats as missing (the release's -1e8)."""
    return value is not None and math.isfinite(float(value)) and abs(float(value)) >= MISSING_MAGNITUDE


class ProblemTableError(ValueError):
    """A problem table (file or id) that does not have the expected shape."""


def problem_id(space: str, task: str) -> str:
    """The id used everywhere for a problem: ``"<space>/<task>"``."""
    return f"{space}/{task}"


def parse_problem_id(pid: str) -> tuple[str, str]:
    """Split ``"<space>/<task>"``; raise a clear error otherwise."""
    space, sep, task = pid.strip().partition("/")
    if not sep or not space or not task or "/" in task:
        raise ProblemTableError(f"problem id {pid!r} must look like '<space>/<task>', e.g. 'nb201/cifar10'")
    return space, task


def table_filename(space: str, task: str) -> str:
    """File name of a problem's table: ``<space>__<task>.parquet``."""
    return f"{space}__{task}.parquet"


@dataclass
class ProblemTable:
    """A problem's rows and metadata."""

    space: str
    task: str
    df: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return problem_id(self.space, self.task)

    @property
    def n(self) -> int:
        return len(self.df)

    @property
    def proxies(self) -> list[str]:
        """Proxy columns with at least one finite value, in canonical order, extras after."""
        known = [p for p in PROXIES if p in self.df.columns]
        extra = [c for c in self.meta.get("extra_columns", []) if c in self.df.columns]
        return [c for c in known + extra if np.isfinite(self.df[c].to_numpy(dtype=float)).any()]

    def values(self, proxy: str) -> np.ndarray:
        """A proxy column as float64; all-NaN when the problem lacks the proxy."""
        if proxy in self.df.columns:
            return self.df[proxy].to_numpy(dtype=np.float64)
        return np.full(self.n, np.nan)

    def subset(self, mask: np.ndarray) -> ProblemTable:
        """The rows selected by boolean ``mask``, same metadata."""
        return ProblemTable(self.space, self.task, self.df[mask].reset_index(drop=True), dict(self.meta))

    @property
    def target(self) -> np.ndarray:
        if TARGET not in self.df.columns:
            raise ProblemTableError(f"{self.id}: table has no {TARGET!r} column")
        return self.df[TARGET].to_numpy(dtype=np.float64)


def _encode_meta(meta: dict[str, Any]) -> dict[bytes, bytes]:
    return {f"evoproxy.{k}".encode(): json.dumps(v).encode() for k, v in meta.items()}


def _decode_meta(raw: dict[bytes, bytes] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (raw or {}).items():
        key = k.decode()
        if key.startswith("evoproxy."):
            out[key[len("evoproxy.") :]] = json.loads(v.decode())
    return out


def save_table(table: ProblemTable, path: str | os.PathLike[str]) -> Path:
    """Validate and write ``table`` to ``path`` atomically, with its metadata."""
    validate_frame(table.df, str(path), require_target=TARGET in table.df.columns)
    meta = {"space": table.space, "task": table.task, "n": table.n, **table.meta}
    meta["n"] = table.n
    arrow = pa.Table.from_pandas(table.df.reset_index(drop=True), preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **_encode_meta(meta)})
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp)
    return Path(path)


def validate_frame(df: pd.DataFrame, where: str, require_target: bool = True) -> None:
    """Check the ProblemTable shape; raise :class:`ProblemTableError` naming ``where`` and the field."""
    if "arch" not in df.columns:
        raise ProblemTableError(f"{where}: missing column 'arch'")
    if df["arch"].duplicated().any():
        dup = df.loc[df["arch"].duplicated(), "arch"].iloc[0]
        raise ProblemTableError(f"{where}: duplicate arch {dup!r}")
    if require_target and TARGET not in df.columns:
        raise ProblemTableError(f"{where}: missing column {TARGET!r}")
    for col in df.columns:
        if col != "arch" and not pd.api.types.is_float_dtype(df[col]):
            raise ProblemTableError(f"{where}: column {col!r} must be float64, got {df[col].dtype}")


def load_table(path: str | os.PathLike[str], require_target: bool = True) -> ProblemTable:
    """Read a ProblemTable written by :func:`save_table` (or any Parquet of the same shape).

    Rows whose target is not finite are kept (the split depends on every arch) but flagged: a warning, and
    ``meta["nonfinite_target"]`` counts them; every metric leaves them out (:mod:`evoproxy.metrics`)."""
    path = Path(path)
    if not path.exists():
        raise ProblemTableError(f"{path}: no such problem table")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ProblemTableError(f"{path}: not a readable Parquet file ({exc})") from exc
    meta = _decode_meta(arrow.schema.metadata)
    df = arrow.to_pandas()
    validate_frame(df, str(path), require_target=require_target)
    space = meta.get("space")
    task = meta.get("task")
    if not space or not task:
        stem = path.stem
        if "__" not in stem:
            raise ProblemTableError(f"{path}: no space/task metadata and file name is not '<space>__<task>.parquet'")
        space, task = stem.split("__", 1)
    if TARGET in df.columns:
        bad = int((~np.isfinite(df[TARGET].to_numpy(dtype=np.float64))).sum())
        if bad:
            log.warning("%s: %d of %d rows have a non-finite %s; they are left out of every metric",
                        path, bad, len(df), TARGET)
        meta["nonfinite_target"] = bad
    return ProblemTable(space=space, task=task, df=df, meta=meta)


def list_problems(data_dir: str | os.PathLike[str]) -> list[str]:
    """Problem ids of all ``<space>__<task>.parquet`` tables in ``data_dir``, sorted."""
    out = []
    for p in sorted(Path(data_dir).glob("*__*.parquet")):
        space, task = p.stem.split("__", 1)
        out.append(problem_id(space, task))
    return out


def load_problem(data_dir: str | os.PathLike[str], pid: str, require_target: bool = True) -> ProblemTable:
    """Load the table of problem ``pid`` from ``data_dir``."""
    space, task = parse_problem_id(pid)
    path = Path(data_dir) / table_filename(space, task)
    if not path.exists():
        have = ", ".join(list_problems(data_dir)) or "none"
        raise ProblemTableError(f"problem {pid!r}: no table {path} (tables present: {have})")
    return load_table(path, require_target=require_target)


def problem_ids(data_dir: str | os.PathLike[str], pids: list[str] | str | None = None) -> list[str]:
    """The problem ids a request names: ``pids`` as a list, a comma-separated string, or None/'all' for every table
    of ``data_dir``."""
    if pids is None or pids == "all" or pids == ["all"]:
        ids = list_problems(data_dir)
    elif isinstance(pids, str):
        ids = [p for p in (s.strip() for s in pids.split(",")) if p]
    else:
        ids = list(pids)
    if not ids:
        raise ProblemTableError(f"{data_dir}: no problem tables found")
    return ids


def load_problems(data_dir: str | os.PathLike[str], pids: list[str] | str | None = None) -> list[ProblemTable]:
    """Load several problems (``pids`` as :func:`problem_ids` takes them)."""
    return [load_problem(data_dir, pid) for pid in problem_ids(data_dir, pids)]


_SPLIT_DEFAULTS = defaults("split")


@dataclass(frozen=True)
class SplitConfig:
    """The shared train/test split of every stage (config section ``split``, defaults from the config schema): per
    problem a seeded sample of ``min(n_train, floor(max_train_fraction * n))`` archs is the training split, the rest
    the test split."""

    n_train: int = _SPLIT_DEFAULTS["n_train"]
    max_train_fraction: float = _SPLIT_DEFAULTS["max_train_fraction"]
    seed: int = _SPLIT_DEFAULTS["seed"]

    def __post_init__(self) -> None:
        if isinstance(self.n_train, bool) or not isinstance(self.n_train, (int, np.integer)) or self.n_train < 2:
            raise ProblemTableError(f"split: n_train must be an integer >= 2, got {self.n_train!r}")
        f = self.max_train_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise ProblemTableError(f"split: max_train_fraction must be in (0, 1) so that a test split remains, "
                                    f"got {f!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ProblemTableError(f"split: seed must be an integer >= 0, got {self.seed!r}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, where: str = "split") -> SplitConfig:
        d = dict(d or {})
        unknown = sorted(set(d) - {"n_train", "max_train_fraction", "seed"})
        if unknown:
            raise ProblemTableError(f"{where}: unknown key(s) {unknown}; known: n_train, max_train_fraction, seed")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sizes(self, n: int, pid: str = "problem") -> tuple[int, int]:
        """(train, test) row counts for a problem of ``n`` rows; each must hold at least 2 rows."""
        k = int(min(self.n_train, math.floor(self.max_train_fraction * n)))
        if k < 2 or n - k < 2:
            raise ProblemTableError(
                f"{pid}: the split (n_train={self.n_train}, max_train_fraction={self.max_train_fraction}) leaves "
                f"{k} train / {n - k} test rows of {n}; each split needs at least 2")
        return k, n - k


def train_mask(
    archs: pd.Series | np.ndarray | list[str],
    n_train: int,
    seed: int,
    pid: str,
    max_train_fraction: float = 0.5,
) -> np.ndarray:
    """Boolean mask of the training rows: a seeded sample of ``n_train`` archs.

    The sample size is ``min(n_train, floor(max_train_fraction * n))`` so that every problem keeps a held-out test
    split even when it has fewer rows than ``n_train``. The sample depends only on the set of archs, the seed and the
    problem id (not on row order), so every stage that splits the same table gets the same split.
    """
    archs = np.asarray(archs, dtype=object)
    n = len(archs)
    k, _ = SplitConfig(n_train, max_train_fraction, seed).sizes(n, pid)
    digest = hashlib.sha256(f"{pid}|{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    order = np.argsort(archs.astype(str), kind="stable")
    chosen = order[rng.permutation(n)[:k]]
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


def split(table: ProblemTable, n_train: int, seed: int, max_train_fraction: float = 0.5) -> tuple[ProblemTable, ProblemTable]:
    """Return (train, test) ProblemTables of ``table`` per :func:`train_mask`."""
    mask = train_mask(table.df["arch"], n_train, seed, table.id, max_train_fraction)
    return table.subset(mask), table.subset(~mask)


SPLITS = ("test", "train", "all")


def split_part(table: ProblemTable, which: str, cfg: SplitConfig) -> ProblemTable:
    """One part (``test``, ``train`` or ``all`` rows) of ``table`` under the shared split ``cfg``."""
    if which not in SPLITS:
        raise ProblemTableError(f"split must be one of {', '.join(SPLITS)}, got {which!r}")
    if which == "all":
        return table
    tr, te = split(table, cfg.n_train, cfg.seed, cfg.max_train_fraction)
    return tr if which == "train" else te
