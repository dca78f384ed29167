"""``evoproxy select``: the final proxy of a training set from its runs (best run, ensemble or gated) -> best.json."""

from __future__ import annotations

import argparse
from typing import Any

from evoproxy.fileio import check_output_file, write_json_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="build the final proxy of a training set from its runs (the runs' 'final' "
                                      "setting: best run, an ensemble of the top runs, or that ensemble gated "
                                      "with per-problem specialists)")
    p.add_argument("--runs", nargs="+", required=True, help="FormulaRun JSON files of one training set and method")
    p.add_argument("--data", help="folder of the training tables: the final proxy's own train/test scores on them "
                                  "are stored; final 'gated' (the default) needs them to check which specialists "
                                  "carry over")
    p.add_argument("--out", required=True, help="output JSON (the final proxy, plus 'selected_from')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evoproxy.problems import load_problems
    from evoproxy.sr.select import final_proxy, read_runs

    check_output_file(args.out)
    runs = read_runs(args.runs)
    tables = load_problems(args.data, runs[0][1].get("trainset") or "all") if args.data else None
    best = final_proxy(runs, tables)
    write_json_atomic(args.out, best)
    print(summary(best, len(runs)))
    return 0


def summary(best: dict[str, Any], n_runs: int) -> str:
    """Two lines on a final proxy: how it was built from the runs, and its formula."""
    sel = best["selection"]
    if sel["final"] == "best":
        what = f"seed {best.get('seed')} train {best['fitness']['train_fitness']:.4f}"
    else:
        what = f"ensemble of {len(best['seed'])} runs (seeds {best['seed']})"
        if sel["final"] == "gated":
            what += f", gated with specialists of {len(best['specialists'])} problems"
    return f"{sel['final']} of {n_runs}: {what}\n  {best['text']}"
