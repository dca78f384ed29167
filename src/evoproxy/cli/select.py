"""``evoproxy select``: pick the best of several FormulaRuns by training fitness -> best.json."""

from __future__ import annotations

import argparse

from evoproxy.fileio import check_output_file, read_json, write_json_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="pick the run with the best training fitness (ties: lowest seed)")
    p.add_argument("--runs", nargs="+", required=True, help="FormulaRun JSON files")
    p.add_argument("--out", required=True, help="output JSON (the chosen run, plus 'selected_from')")
    p.set_defaults(func=run)


def select_best(paths: list[str]) -> dict:
    """The chosen run with ``selected_from``: every candidate's path, seed and training fitness."""
    runs = []
    for path in paths:
        r = read_json(path, "run file")
        try:
            fit = float(r["fitness"]["train_fitness"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: no fitness.train_fitness (expected a FormulaRun JSON)") from None
        runs.append((fit, -int(r.get("seed", 0)), path, r))
    best = max(runs, key=lambda t: (t[0], t[1]))
    out = dict(best[3])
    out["selected_from"] = [{"path": p, "seed": -s, "train_fitness": f} for f, s, p, _ in runs]
    out["selected_path"] = best[2]
    return out


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out)
    best = select_best(args.runs)
    write_json_atomic(args.out, best)
    print(f"best of {len(args.runs)}: seed {best.get('seed')} train {best['fitness']['train_fitness']:.4f} "
          f"{best['text']}")
    return 0
