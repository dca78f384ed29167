"""NAS result files: ground-truth accuracy of a found architecture (for reporting only) and the result JSON.

Ground truth never guides a search; it is looked up afterwards:
- ``nb201``: ``nb201_accuracy.parquet`` (all 15,625 cells, NATS-Bench 200-epoch mean over seeds): cifar10 *valid*,
  cifar100 and ImageNet16-120 *valtest* accuracy. The split is written into every record and table.
- other spaces: the ``val_accuracy`` column of the problem's ingested table (rank among the table's archs only).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evoproxy import __version__
from evoproxy.encodings import nb201_to_string, parse_arch
from evoproxy.fileio import write_json_atomic
from evoproxy.metrics import finite_rows, rank_score
from evoproxy.problems import ACCURACY_TABLE, TARGET, load_problem

NB201_ACCURACY: dict[str, tuple[str, str]] = {
    "cifar10": ("cifar10_valid_acc_mean", "valid"),
    "cifar100": ("cifar100_valtest_acc_mean", "valtest"),
    "ImageNet16-120": ("ImageNet16-120_valtest_acc_mean", "valtest"),
}
"""Dataset -> (column of nb201_accuracy.parquet, split it reports)."""

RESULT_VERSION = 1


@dataclass
class GroundTruth:
    """Accuracy of every arch of a reference set, to report the accuracy and rank of a found arch."""

    source: str
    metric: str
    split: str
    acc: dict[str, float]

    def __post_init__(self) -> None:
        values = np.asarray(list(self.acc.values()), dtype=np.float64)
        self._sorted = np.sort(values[finite_rows(values)])
        best = max(self.acc, key=lambda a: rank_score(self.acc[a]))
        self.optimum_arch, self.optimum = best, float(self.acc[best])

    @property
    def n(self) -> int:
        return int(self._sorted.size)

    def report(self, arch: str | None) -> dict[str, Any]:
        """Accuracy, rank (1 = best), top-percent and percentile of ``arch``, and the optimum of the set."""
        out: dict[str, Any] = {"source": self.source, "metric": self.metric, "split": self.split, "n_cells": self.n,
                               "optimum": self.optimum, "optimum_arch": self.optimum_arch}
        a = self.acc.get(arch) if arch is not None else None
        if a is None or not np.isfinite(a):
            out.update(accuracy=None, rank=None, top_percent=None, percentile=None)
            return out
        higher = self.n - int(np.searchsorted(self._sorted, a, side="right"))
        lower = int(np.searchsorted(self._sorted, a, side="left"))
        rank = higher + 1
        out.update(accuracy=float(a), rank=rank, top_percent=100.0 * rank / self.n,
                   percentile=100.0 * lower / self.n, regret=self.optimum - float(a))
        return out


def load_ground_truth(data_dir: str | os.PathLike[str], space: str, dataset: str) -> GroundTruth | None:
    """The reference accuracies for ``space``/``dataset`` in ``data_dir``; None when none are available."""
    data_dir = Path(data_dir)
    if space == "nb201":
        path = data_dir / ACCURACY_TABLE
        if path.exists():
            if dataset not in NB201_ACCURACY:
                raise ValueError(f"{path}: no accuracy for dataset {dataset!r}; known: {sorted(NB201_ACCURACY)}")
            column, split = NB201_ACCURACY[dataset]
            df = pd.read_parquet(path, columns=["arch", column])
            return GroundTruth(str(path), column, split, dict(zip(df["arch"].astype(str), df[column].astype(float),
                                                                   strict=True)))
    try:
        table = load_problem(data_dir, f"{space}/{dataset}")
    except ValueError:
        return None
    return GroundTruth(str(data_dir), TARGET, "val_accuracy of the problem table", dict(
        zip(table.df["arch"].astype(str), table.target.tolist(), strict=True)))


def encodings_of(space: str, arch: str | None) -> dict[str, Any]:
    """Both encodings of an arch: the canonical NASLib string and, for NB201, the NAS-Bench-201 cell string."""
    if arch is None:
        return {"arch": None}
    out: dict[str, Any] = {"arch": arch}
    if space == "nb201":
        out["cell"] = nb201_to_string(parse_arch("nb201", arch))
    return out


def build_record(result: Any, *, space: str, dataset: str, mode: str, objective: dict[str, Any],
                 truth: GroundTruth | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The result-file dict of one search (``result`` is a :class:`evoproxy.nas.evolution.SearchResult`)."""
    body = result.to_dict()
    best = {**encodings_of(space, result.best_arch), **{k: v for k, v in body.pop("best").items() if k != "arch"}}
    record: dict[str, Any] = {
        "version": RESULT_VERSION,
        "space": space,
        "dataset": dataset,
        "mode": mode,
        "objective": objective,
        "best": best,
        "truth": truth.report(result.best_arch) if truth is not None else None,
        **body,
        **(extra or {}),
        "versions": {"evoproxy": __version__, "python": platform.python_version(), "numpy": np.__version__},
    }
    return record


def write_result(path: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write a result record atomically (a reader never sees a half-written file)."""
    write_json_atomic(path, record)
    return Path(path)


def load_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a result file, with a clear error naming the file when it is not one."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a NAS result file (invalid JSON: {exc.msg})") from exc
    for key in ("space", "dataset", "objective", "best", "status"):
        if key not in record:
            raise ValueError(f"{path}: not a NAS result file (missing field {key!r})")
    return record
