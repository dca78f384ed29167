"""``evoproxy evolve``: GP runs on the training splits of the given problems -> one FormulaRun JSON per seed.

Several seeds in one process (``--seeds 0-30 --out DIR/run_{seed}.json``) load the tables and import the engine
once; each run is the same as with ``--seed S`` alone. ``--final best.json`` then builds the final proxy of those runs
in the same process, exactly as ``evoproxy select --runs <the run files> --data DATA --out best.json`` does."""

from __future__ import annotations

import argparse
import json
from typing import Any

from evoproxy.cli import add_split_arguments, split_overrides
from evoproxy.fileio import check_output_file, read_yaml, write_json_atomic
from evoproxy.problems import load_problems


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evolve", help="evolve a proxy formula by GP on the training splits of problems")
    p.add_argument("--data", required=True, help="folder of problem tables")
    p.add_argument("--problems", default="all", help="comma-separated problem ids, or 'all' (default)")
    p.add_argument("--config", help="YAML/JSON file: its 'sr' section (or the whole file) is the SR config")
    p.add_argument("--sr-json", help="SR config as a JSON object (applied after --config)")
    p.add_argument("--seed", type=int, default=0, help="the run's seed")
    p.add_argument("--seeds", help="several runs: seeds as 'A-B' (inclusive) or 'a,b,c'; --out then holds '{seed}'")
    add_split_arguments(p, "the config's split, else the schema's")
    p.add_argument("--population", type=int, help="override sr.population")
    p.add_argument("--generations", type=int, help="override sr.generations")
    p.add_argument("--out", required=True, help="output FormulaRun JSON ('{seed}' in it is replaced by the seed)")
    p.add_argument("--final", help="also write the final proxy of these runs here (= evoproxy select --runs <the run "
                                   "files> --data DATA --out FILE, without a second process)")
    p.set_defaults(func=run)


def _read_config(path: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if not path:
        return {}, {}
    doc = read_yaml(path, "--config") or {}
    if not isinstance(doc, dict):
        raise ValueError(f"--config {path}: expected a mapping (an 'sr' section or the SR keys), got {type(doc).__name__}")
    sr = doc.get("sr", doc if "split" not in doc and "problems" not in doc else {})
    split = doc.get("split") or {}
    for name, section in (("sr", sr), ("split", split)):
        if not isinstance(section, dict):
            raise ValueError(f"--config {path}: section {name!r} must be a mapping, got {type(section).__name__}")
    return dict(sr or {}), dict(split)


def parse_seeds(spec: str) -> list[int]:
    """'A-B' (inclusive) or 'a,b,c' -> seeds; a clear error otherwise."""
    try:
        if "-" in spec and "," not in spec:
            lo, hi = (int(x) for x in spec.split("-", 1))
            seeds = list(range(lo, hi + 1))
        else:
            seeds = [int(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--seeds {spec!r}: expected 'A-B' or a comma-separated list of integers") from None
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds {spec!r}: expected at least one seed, all >= 0")
    return seeds


def run(args: argparse.Namespace) -> int:
    from evoproxy.sr.engine import evolve

    seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]
    if len(seeds) > 1 and "{seed}" not in args.out:
        raise ValueError("--out must contain '{seed}' when --seeds names several runs")
    outs = {s: args.out.replace("{seed}", str(s)) for s in seeds}
    for out in [*outs.values(), *([args.final] if args.final else [])]:
        check_output_file(out)
    sr, split_cfg = _read_config(args.config)
    if args.sr_json:
        try:
            extra = json.loads(args.sr_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--sr-json: not valid JSON ({exc})") from None
        if not isinstance(extra, dict):
            raise ValueError(f"--sr-json: expected a JSON object of SR keys, got {type(extra).__name__}")
        sr.update(extra)
    for key in ("population", "generations"):
        if getattr(args, key) is not None:
            sr[key] = getattr(args, key)
    split_cfg.update(split_overrides(args))
    tables = load_problems(args.data, args.problems)
    for seed, out in outs.items():
        result = evolve(tables, sr, seed=seed, split_cfg=split_cfg)
        write_json_atomic(out, result)
        _summary(result)
    if args.final:
        from evoproxy.cli.select import summary
        from evoproxy.sr.select import final_proxy, read_runs

        runs = read_runs(list(outs.values()))  # as select reads them: the same final proxy, byte for byte
        best = final_proxy(runs, tables)
        write_json_atomic(args.final, best)
        print(summary(best, len(runs)))
    return 0


def _summary(result: dict[str, Any]) -> None:
    tests = [v["test"] for v in result["fitness"]["per_problem"].values()]
    taus = [t["kendall"] for t in tests if t["kendall"] == t["kendall"]]
    test = f"{sum(taus) / len(taus):.4f}" if taus else "n/a"
    print(f"{result['text']}\n  train {result['fitness']['metric']} ({result['fitness']['aggregate']}): "
          f"{result['fitness']['train_fitness']:.4f}  mean test kendall: {test} over {len(taus)} problem(s), "
          f"n = {sum(t['n'] for t in tests)} test archs  (seed {result['seed']}, {result['wall_seconds']:.1f} s)")
