"""``evoproxy evaluate``: an evolved formula vs every baseline on the held-out test splits (long Parquet).

With ``--trainsets a,b,c`` one process evaluates every training set of a protocol (``--formula`` and ``--out`` hold
``{trainset}``): each output is the file the single-training-set call gives."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from evoproxy.cli import add_split_arguments, split_overrides
from evoproxy.evaluate import win_counts, write_evaluation
from evoproxy.fileio import check_output_file

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evolved proxy (and its runs) vs hand-crafted, best-single, ensembles and "
                                        "supervised, on the test splits")
    p.add_argument("--formula", required=True, help="FormulaRun JSON (best.json of a training set; with --trainsets "
                                                    "a path holding '{trainset}')")
    p.add_argument("--trainsets", help="several training sets of --protocol, comma-separated: each is evaluated with "
                                       "the runs its final proxy was built from, on the problems among --problems "
                                       "that the protocol's kind tests it on")
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
    p.add_argument("--out", required=True, help="output Parquet ('{trainset}' in it with --trainsets)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evoproxy.evaluate import evaluate_file, evaluate_trainsets

    options = {"split": split_overrides(args), "n_boot": args.n_boot, "seed": args.seed}
    if not args.trainsets:
        check_output_file(args.out)
        df = evaluate_file(args.formula, args.data, args.problems, train_problems=args.train_problems,
                           runs=args.runs, protocol=args.protocol, trainset=args.trainset,
                           protocol_kind=args.protocol_kind, supervised=args.supervised,
                           n_supervised=args.n_supervised, **options)
        _write(df, args.out)
        return 0
    trainsets = [t for t in (s.strip() for s in args.trainsets.split(",")) if t]
    for flag, value in (("--formula", args.formula), ("--out", args.out)):
        if "{trainset}" not in value:
            raise ValueError(f"{flag} must contain '{{trainset}}' with --trainsets")
    if not args.protocol or args.runs or args.train_problems or args.trainset:
        raise ValueError("--trainsets needs --protocol and takes each training set's runs, training problems and "
                         "name from its final proxy (no --runs, --train-problems or --trainset)")
    outs = {t: args.out.replace("{trainset}", t) for t in trainsets}
    for out in outs.values():
        check_output_file(out)
    for trainset, df in evaluate_trainsets(args.formula, trainsets, args.data, args.problems, args.protocol,
                                           args.protocol_kind, args.supervised, args.n_supervised, **options):
        _write(df, outs[trainset])
    return 0


def _write(df: pd.DataFrame, out: str) -> None:
    write_evaluation(df, out)
    wins = win_counts(df)
    print(f"{out}: {df['problem'].nunique()} problems x {df['method'].nunique()} methods; evolved interval "
          f"above best single on {int(wins['evolved_wins'].sum())}/{len(wins)}")
