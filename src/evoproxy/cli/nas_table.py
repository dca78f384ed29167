"""``evoproxy nas_table``: the NAS results table and figure over seeds (mean ± std, optimum, percentiles)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evoproxy.cli import CLIError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nas_table", help="aggregate 'evoproxy search' result files into a table and figure")
    p.add_argument("results", nargs="+", help="result JSON files, or folders searched for seed_*.json")
    p.add_argument("--csv", required=True, help="summary CSV (one row per dataset x objective)")
    p.add_argument("--markdown", help="markdown table (with the note on validation vs test accuracy)")
    p.add_argument("--latex", help="LaTeX tabular")
    p.add_argument("--figure", help="PNG figure")
    p.add_argument("--runs-csv", help="per-run CSV (one row per result file)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evoproxy.nas.table import to_markdown, write_table

    paths: list[Path] = []
    for item in args.results:
        p = Path(item)
        if p.is_dir():
            paths += sorted(p.rglob("seed_*.json"))
        elif p.exists():
            paths.append(p)
        else:
            raise CLIError(f"{p}: no such result file or folder")
    if not paths:
        raise CLIError(f"no seed_*.json result files under {' '.join(args.results)}")
    summary = write_table(paths, args.csv, args.markdown, args.latex, args.figure, args.runs_csv)
    print(to_markdown(summary))
    return 0
