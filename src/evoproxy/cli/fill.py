"""``evoproxy fill``: merge computed proxies into a problem table that lacks them."""

from __future__ import annotations

import argparse

from evoproxy.extract import fill


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fill", help="fill proxies a problem table lacks from an extracted primitives table")
    p.add_argument("--table", required=True, help="problem table, e.g. results/data/nb101__cifar10.parquet")
    p.add_argument("--primitives", required=True, help="table written by 'evoproxy extract' for the same archs")
    p.add_argument("--proxies", default=None, help="comma-separated proxies to fill (default: all computed ones)")
    p.add_argument("--overwrite", action="store_true", help="replace proxies the table already has")
    p.add_argument("--out", required=True, help="output problem table (may equal --table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = fill(args.table, args.primitives, args.out, args.proxies, args.overwrite)
    print(f"{args.out}: {table.n} archs; computed proxies {table.meta.get('computed_proxies', [])}")
    return 0
