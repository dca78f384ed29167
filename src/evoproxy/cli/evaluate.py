"""``evoproxy evaluate``: an evolved formula vs every baseline on the held-out test splits (long Parquet)."""

from __future__ import annotations

import argparse

from evoproxy.cli import add_split_arguments, split_overrides
from evoproxy.evaluate import win_counts, write_evaluation
from evoproxy.fileio import check_output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evolved proxy (and its runs) vs hand-crafted, best-single, ensembles and "
                                        "supervised, on the test splits")
    p.add_argument("--formula", required=True, help="FormulaRun JSON (best.json of a training set)")
    p.add_argument("--runs", nargs="*", default=[], help="the training set's run JSONs: one row each (the spread "
                                                         "over seeds)")
    p.add_argument("--data", required=True, help="folder of ingested problem tables")
    p.add_argument("--problems", default="all", help="comma-separated test problem ids (default: every table)")
    p.add_argument("--train-problems", help="comma-separated training problem ids (default: the run's 'trainset')")
    p.add_argument("--protocol", default="", help="protocol name stored in the output")
    p.add_argument("--trainset", default="", help="training-set name stored in the output")
    p.add_argument("--protocol-kind", default="", help="the protocol's kind (multi, single, loso, lopo, loto) when "
                                                       "its name is another (default: the protocol)")
    add_split_arguments(p, "the formula run's split")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the tau intervals")
    p.add_argument("--n-supervised", type=int, default=400, help="labelled archs for the supervised reference (0: off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the supervised model")
    p.add_argument("--supervised", help="supervised references computed once by 'evoproxy supervised' (default: "
                                        "fit them here)")
    p.add_argument("--out", required=True, help="output Parquet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evoproxy.evaluate import evaluate_file

    check_output_file(args.out)
    df = evaluate_file(args.formula, args.data, args.problems, train_problems=args.train_problems,
                       runs=args.runs, split=split_overrides(args), n_boot=args.n_boot, n_supervised=args.n_supervised,
                       seed=args.seed, protocol=args.protocol, trainset=args.trainset,
                       protocol_kind=args.protocol_kind, supervised=args.supervised)
    write_evaluation(df, args.out)
    wins = win_counts(df)
    print(f"{args.out}: {df['problem'].nunique()} problems x {df['method'].nunique()} methods; evolved interval "
          f"above best single on {int(wins['evolved_wins'].sum())}/{len(wins)}")
    return 0
