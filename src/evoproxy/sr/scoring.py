"""Apply a saved formula to problem tables: per-problem n, Kendall tau-b, Spearman rho and top-5% precision.

The split is the shared seeded split (:func:`evoproxy.problems.train_mask`) with the split config stored in the
run, applied to every problem, including problems, spaces and tasks the formula never saw, so ``test`` rows are
comparable across methods. Scores are computed on the rows of the requested split only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evoproxy.fileio import atomic_path
from evoproxy.metrics import kendall, n_scored, spearman, top_k_precision
from evoproxy.problems import ProblemTable, SplitConfig, split_part
from evoproxy.sr.formula import Formula, Scorer

COLUMNS = ["problem", "space", "task", "split", "n", "kendall", "spearman", "top5", "gate"]
"""``gate``: for a gated proxy, the specialists its gate woke on the scored rows (JSON ``{problem: weight}``, weights
above 0); empty for other scorers."""


def run_split(formula: Formula) -> SplitConfig:
    """The split a formula's run was evolved and tested with (the default split for a bare formula)."""
    return SplitConfig.from_dict((formula.run or {}).get("split"), "formula run 'split'")


def score_formula(
    formula: Scorer, tables: Sequence[ProblemTable], which: str = "test", split_cfg: SplitConfig | None = None
) -> pd.DataFrame:
    """One row per problem with the scorer's rank correlations on the chosen split (n = rows scored) and, for a gated
    proxy, the specialists its gate woke there."""
    split_cfg = split_cfg or run_split(formula)
    rows = []
    for t in tables:
        part = split_part(t, which, split_cfg)
        s, y = formula.evaluate_table(part), part.target
        woken = {k: round(w, 4) for k, w in formula.gate(part).items() if w > 0} if hasattr(formula, "gate") else None
        rows.append({
            "problem": t.id, "space": t.space, "task": t.task, "split": which, "n": n_scored(y),
            "kendall": kendall(s, y), "spearman": spearman(s, y), "top5": top_k_precision(s, y, 0.05),
            "gate": "" if woken is None else json.dumps(woken),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def write_scores(df: pd.DataFrame, out: str | os.PathLike[str], formula: Formula, split_cfg: SplitConfig) -> None:
    """Parquet with the formula text, AST, transform and split in the key-value metadata (atomic write)."""
    tab = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(tab.schema.metadata or {})
    meta.update({
        b"formula_text": formula.text.encode(),
        b"formula": json.dumps(formula.spec()).encode(),
        b"transform": formula.transform.encode(),
        b"split": json.dumps(split_cfg.to_dict()).encode(),
    })
    with atomic_path(out) as tmp:
        pq.write_table(tab.replace_schema_metadata(meta), tmp)
