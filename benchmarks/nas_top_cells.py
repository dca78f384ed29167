"""What a lookup NAS can find with an objective: the accuracy of the objective's best cells in each NB201 table.

    .venv/bin/python benchmarks/nas_top_cells.py --data results/data \
        --objectives results/evolve/multi/all/best.json,results/evolve/multi_paper/all/best.json,nwot,synflow \
        [--top 1,10,50] [--section nas-top-cells]

Lookup-mode NAS (1,000 evaluations of aging evolution) on a mirror table of a few thousand cells returns the best
cell of a smooth objective (one proxy, a calibrated formula) in nearly every seed (standard deviation 0 in the NAS
table), so its accuracy is decided by the objective's top cells, not by its rank correlation; an objective whose
maximum is an isolated outlier cell (a raw formula) may never reach it. Per (dataset, objective) this prints the
accuracy of the best cell, the mean over the top 10 and top 50 cells, the objective's score margin between its first
and second cell (how close the decision is) and Kendall tau over the table. Accuracies: the NB201 accuracy table
(as in the NAS table); the ground truth is only read, never used to choose anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdsection import write_section  # noqa: E402

from evoproxy.metrics import kendall  # noqa: E402
from evoproxy.nas.objective import LookupObjective, resolve_objective  # noqa: E402
from evoproxy.nas.results import NB201_ACCURACY, load_ground_truth  # noqa: E402
from evoproxy.problems import load_problem  # noqa: E402
from evoproxy.report.tables import to_markdown  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def top_cells(data: str, objectives: list[str], tops: list[int]) -> pd.DataFrame:
    rows = []
    for dataset in NB201_ACCURACY:
        table = load_problem(data, f"nb201/{dataset}")
        truth = load_ground_truth(data, "nb201", dataset)
        archs = table.df["arch"].astype(str).tolist()
        acc = np.array([truth.acc.get(a, np.nan) for a in archs])
        for spec in objectives:
            name, formula, _ = resolve_objective(spec)
            obj = LookupObjective(formula, table, data)
            score = np.array([obj.scores[a] for a in archs])
            order = np.argsort(-np.where(np.isfinite(score), score, -np.inf), kind="stable")
            row = {"dataset": dataset, "objective": name, "cells": len(archs)}
            for k in tops:
                row[f"top {k} mean acc"] = float(np.nanmean(acc[order[:k]]))
            margin = (score[order[0]] - score[order[1]]) / abs(score[order[0]])
            row["1st - 2nd score (relative)"] = f"{margin:.1e}"
            row["tau"] = kendall(score, acc)
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO / "results/data"))
    p.add_argument("--objectives", default="results/evolve/multi/all/best.json,nwot,synflow,flops,jacov")
    p.add_argument("--top", default="1,10,50")
    p.add_argument("--out", default=str(REPO / "benchmarks/results/nas_top_cells.md"))
    p.add_argument("--section", default="nas-top-cells", help="BENCHMARKS.md section to replace ('' for none)")
    args = p.parse_args()
    df = top_cells(args.data, args.objectives.split(","), [int(k) for k in args.top.split(",")])
    md = to_markdown(df, bold=False, index=False)
    body = f"`{' '.join(sys.argv)}`\n\n{md}"
    Path(args.out).write_text(body + "\n")
    if args.section:
        write_section(REPO / "BENCHMARKS.md", args.section, "### Lookup NAS: the objectives' best cells\n\n" + body)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
