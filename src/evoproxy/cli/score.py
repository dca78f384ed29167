"""``evoproxy score``: a saved formula on any problem tables -> per-problem n, tau, rho, top-5% (Parquet)."""

from __future__ import annotations

import argparse

from evoproxy.fileio import check_output_file
from evoproxy.problems import SPLITS, load_problems
from evoproxy.sr.formula import load_formula
from evoproxy.sr.scoring import run_split, score_formula, write_scores


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score a saved formula on problem tables (seeded shared split)")
    p.add_argument("--formula", required=True, help="FormulaRun JSON (evolve/select output)")
    p.add_argument("--data", required=True, help="folder of problem tables")
    p.add_argument("--problems", default="all", help="comma-separated problem ids, or 'all' (default)")
    p.add_argument("--split", default="test", choices=SPLITS, help="rows to score (default: test)")
    p.add_argument("--out", required=True, help="output Parquet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out)
    formula = load_formula(args.formula)
    split_cfg = run_split(formula)
    df = score_formula(formula, load_problems(args.data, args.problems), args.split, split_cfg)
    write_scores(df, args.out, formula, split_cfg)
    print(f"{formula.text}  ({args.split} split)")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0
