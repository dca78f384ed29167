"""``evoproxy baselines``: rank correlation of each hand-crafted proxy on each problem."""

from __future__ import annotations

import argparse

from evoproxy.baselines import baselines, to_markdown, write_baselines
from evoproxy.fileio import check_output_file
from evoproxy.problems import load_problems


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("baselines", help="per problem and proxy: n, Spearman, Kendall tau-b, top-5%% precision")
    p.add_argument("--data", required=True, help="folder of ingested problem tables")
    p.add_argument("--problems", default="all", help="comma-separated problem ids (default: every table in --data)")
    p.add_argument("--out", required=True, help="output Parquet (long format)")
    p.add_argument("--markdown", help="also write markdown tables here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out)
    if args.markdown:
        check_output_file(args.markdown, "--markdown")
    df = baselines(load_problems(args.data, args.problems))
    write_baselines(df, args.out, args.markdown)
    print(to_markdown(df, "kendall"))
    return 0
