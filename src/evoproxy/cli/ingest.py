"""``evoproxy ingest``: release JSON files -> one ProblemTable Parquet per (space, task)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evoproxy.problems import ACCURACY_TABLE
from evoproxy.release.ingest import ACCURACY_CSV, ingest, ingest_accuracy


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="convert the release files into Parquet problem tables")
    p.add_argument("--src", required=True, help="folder with the official zc_<space>.json files")
    p.add_argument("--out", required=True, help="folder for <space>__<task>.parquet tables")
    p.add_argument("--spaces", nargs="+", help="only these spaces (nb101 nb201 nb301 tnb101_micro tnb101_macro)")
    p.add_argument("--accuracy-only", action="store_true",
                   help=f"only convert {ACCURACY_CSV} into {ACCURACY_TABLE}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.accuracy_only:
        paths = [ingest_accuracy(Path(args.src) / ACCURACY_CSV, Path(args.out) / ACCURACY_TABLE)]
    else:
        paths = ingest(args.src, args.out, spaces=args.spaces, accuracy=not args.spaces)
    for path in paths:
        print(path)
    return 0
