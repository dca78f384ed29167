"""``evoproxy report``: regenerate the paper tables, figures and results/report.md from result files."""

from __future__ import annotations

import argparse
import json

from evoproxy.fileio import check_output_file, read_yaml
from evoproxy.report.report import build_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="tables (csv/md/tex), figures (png) and report.md from the result files")
    p.add_argument("--evaluations", required=True, help="folder with <protocol>/<trainset>.parquet evaluations")
    p.add_argument("--evolve", required=True, help="folder with <protocol>/<trainset>/run_*.json and best.json")
    p.add_argument("--tables", required=True, help="output folder of the tables")
    p.add_argument("--figures", required=True, help="output folder of the figures")
    p.add_argument("--out", required=True, help="output report (Markdown)")
    p.add_argument("--config", help="config YAML file to embed in the report (its 'problems' order the rows)")
    p.add_argument("--config-json", help="the effective config as a JSON string (takes precedence over --config)")
    p.add_argument("--protocols", help="comma-separated protocols to report (default: every folder present)")
    p.add_argument("--nas-table", help="Markdown NAS table to include when it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out)
    config = None
    if args.config_json:
        try:
            config = json.loads(args.config_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--config-json: not valid JSON ({exc})") from exc
    elif args.config:
        config = read_yaml(args.config, "--config")
    written = build_report(args.evaluations, args.evolve, args.tables, args.figures, args.out, config=config,
                           nas_table=args.nas_table,
                           protocols=[p for p in (args.protocols or "").split(",") if p] or None)
    print(f"{args.out}: {len(written['tables'])} table files, {len(written['figures'])} figures")
    return 0
