"""Apply a saved formula to problem tables: per-problem n, Kendall tau-b, Spearman rho and top-5% precision.

The split is the shared seeded split (:func:`evoproxy.problems.train_mask`) with the split config stored in the
run, applied to every problem, including problems, spaces and tasks the formula never saw, so ``test`` rows are
comparable across methods. Scores are computed on the rows of the requested split only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evoproxy.fileio import atomic_path
from evoproxy.metrics import kendall, spearman, top_k_precision
from evoproxy.problems import ProblemTable, train_mask
from evoproxy.sr.formula import Formula

SPLITS = ("test", "train", "all")
COLUMNS = ["problem", "space", "task", "split", "n", "kendall", "spearman", "top5"]


def split_rows(table: ProblemTable, which: str, split_cfg: dict[str, Any]) -> ProblemTable:
    if which not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {which!r}")
    if which == "all":
        return table
    mask = train_mask(
        table.df["arch"], int(split_cfg["n_train"]), int(split_cfg["seed"]), table.id,
        float(split_cfg["max_train_fraction"]),
    )
    rows = mask if which == "train" else ~mask
    return ProblemTable(table.space, table.task, table.df[rows].reset_index(drop=True), dict(table.meta))


def score_formula(
    formula: Formula, tables: Sequence[ProblemTable], which: str = "test", split_cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One row per problem with the formula's rank correlations on the chosen split."""
    if split_cfg is None:
        split_cfg = (formula.run or {}).get("split") or {"n_train": 1000, "max_train_fraction": 0.5, "seed": 0}
    rows = []
    for t in tables:
        part = split_rows(t, which, split_cfg)
        s = formula.evaluate_table(part)
        y = part.target
        rows.append({
            "problem": t.id, "space": t.space, "task": t.task, "split": which, "n": part.n,
            "kendall": kendall(s, y) if part.n else np.nan,
            "spearman": spearman(s, y) if part.n else np.nan,
            "top5": top_k_precision(s, y, 0.05),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def write_scores(df: pd.DataFrame, out: str | os.PathLike[str], formula: Formula, split_cfg: dict[str, Any]) -> None:
    """Parquet with the formula text, AST, transform and split in the key-value metadata (atomic write)."""
    tab = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(tab.schema.metadata or {})
    meta.update({
        b"formula_text": formula.text.encode(),
        b"formula": json.dumps(formula.ast).encode(),
        b"transform": formula.transform.encode(),
        b"split": json.dumps(split_cfg).encode(),
    })
    with atomic_path(out) as tmp:
        pq.write_table(tab.replace_schema_metadata(meta), tmp)
