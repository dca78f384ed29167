"""``evoproxy evaluate``: an evolved formula vs every baseline on the held-out test splits (long Parquet)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evoproxy.evaluate import evaluate, win_counts
from evoproxy.fileio import atomic_path, check_output_file
from evoproxy.problems import load_problems


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evolved proxy vs hand-crafted, best-single, ensembles and supervised")
    p.add_argument("--formula", required=True, help="FormulaRun JSON (best.json of a training set)")
    p.add_argument("--data", required=True, help="folder of ingested problem tables")
    p.add_argument("--problems", default="all", help="comma-separated test problem ids (default: every table)")
    p.add_argument("--train-problems", help="comma-separated training problem ids (default: the run's 'trainset')")
    p.add_argument("--protocol", default="", help="protocol name stored in the output")
    p.add_argument("--trainset", default="", help="training-set name stored in the output")
    p.add_argument("--n-train", type=int, required=True, help="split: n_train (same as the evolve stage)")
    p.add_argument("--split-seed", type=int, required=True, help="split: seed")
    p.add_argument("--max-train-fraction", type=float, default=0.5, help="split: max_train_fraction")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the tau intervals")
    p.add_argument("--n-supervised", type=int, default=400, help="labelled archs for the supervised reference (0: off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the supervised model")
    p.add_argument("--out", required=True, help="output Parquet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evoproxy.sr.formula import load_formula

    check_output_file(args.out)
    fpath = Path(args.formula)
    formula = load_formula(fpath)
    train_ids = args.train_problems or (formula.run or {}).get("trainset")
    if not train_ids:
        raise ValueError(f"{fpath}: no 'trainset' list and no --train-problems given")
    df = evaluate(
        formula.evaluate_table, load_problems(args.data, train_ids), load_problems(args.data, args.problems),
        n_train=args.n_train, split_seed=args.split_seed, max_train_fraction=args.max_train_fraction,
        n_boot=args.n_boot, n_supervised=args.n_supervised, seed=args.seed,
    )
    df.insert(0, "trainset", args.trainset or fpath.parent.name)
    df.insert(0, "protocol", args.protocol or fpath.parent.parent.name)
    df["formula"] = formula.text
    df.attrs = {}
    with atomic_path(args.out) as tmp:
        df.to_parquet(tmp, index=False)
    wins = win_counts(df)
    print(f"{args.out}: {df['problem'].nunique()} problems x {df['method'].nunique()} methods; evolved interval "
          f"above best single on {int(wins['evolved_wins'].sum())}/{len(wins)}")
    return 0
