"""``evoproxy search``: proxy-guided NAS (aging evolution or random search) with a formula or proxy as objective.

Several seeds in one process (``--seeds 0-9 --out DIR/seed_{seed}.json``) load the table and ground truth once; each
search is the same as with ``--seed S`` alone. The orchestration lives in :mod:`evoproxy.nas.search`."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from evoproxy.cli.evolve import parse_seeds
from evoproxy.fileio import check_output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search", help="evolutionary NAS guided by an evolved formula or a zero-cost proxy",
        description="Search a space for the architecture with the best objective (formula or proxy); ground truth "
                    "is only looked up afterwards, to report the accuracy and rank of the result.")
    p.add_argument("--space", default="nb201", help="search space (default nb201)")
    p.add_argument("--dataset", default=None,
                   help="cifar10 (default), cifar100, ImageNet16-120 (nb201) or a task name (TransNAS-Bench-101: "
                        "class_scene (default), class_object, jigsaw, room_layout, ...)")
    p.add_argument("--objective", required=True,
                   help="FormulaRun JSON file, a proxy name (e.g. nwot), or 'random' (a uniformly random arch)")
    p.add_argument("--mode", choices=("lookup", "online"), default="lookup",
                   help="lookup: proxies from the ingested table in --data; online: computed per candidate")
    p.add_argument("--data", help="folder of ingested tables (lookup proxies; nb201_accuracy.parquet for the report)")
    p.add_argument("--algorithm", choices=("aging", "random"), default="aging",
                   help="aging (regularized) evolution, or random search (= top objective of N random samples)")
    p.add_argument("--population", type=int, default=20, help="aging evolution population size")
    p.add_argument("--sample-size", type=int, default=5, help="aging evolution tournament sample size")
    p.add_argument("--budget-evals", type=int, help="stop after this many evaluations")
    p.add_argument("--budget-seconds", type=float, help="stop after this many wall seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", help="several searches: seeds as 'A-B' (inclusive) or 'a,b,c'; --out then holds '{seed}'")
    p.add_argument("--reference-size", type=int, default=None,
                   help="online mode, calibrated objectives (ecdf formulas, ensembles): random archs whose proxies "
                        "calibrate them, computed once at start-up (default 64)")
    p.add_argument("--device", default="auto", help="online mode: cpu, cuda, cuda:N or auto")
    p.add_argument("--batch-size", type=int, default=None,
                   help="online mode: minibatch size for the proxies (default: the release's for the space and task)")
    p.add_argument("--images",
                   help="online mode: dataset file (CIFAR npz or official tarball/folder; a Taskonomy folder for "
                        "TransNAS-Bench-101 tasks); not needed for data-free objectives (params, flops, l2_norm, "
                        "synflow, zen)")
    p.add_argument("--out", required=True, help="result JSON (written atomically, also on Ctrl-C); '{seed}' in it is "
                                                "replaced by the seed")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _raise_interrupt(signum: int, frame: Any) -> None:  # noqa: ARG001
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from evoproxy.nas.objective import REFERENCE_SIZE
    from evoproxy.nas.results import write_result
    from evoproxy.nas.search import Searcher, SearchSettings

    seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]
    if len(seeds) > 1 and "{seed}" not in args.out:
        raise ValueError("--out must contain '{seed}' when --seeds names several searches")
    outs = {s: args.out.replace("{seed}", str(s)) for s in seeds}
    for out in outs.values():
        check_output_file(out)
    searcher = Searcher(SearchSettings(
        objective=args.objective, space=args.space, dataset=args.dataset, mode=args.mode, data=args.data,
        algorithm=args.algorithm, population=args.population, sample_size=args.sample_size,
        budget_evals=args.budget_evals, budget_seconds=args.budget_seconds, device=args.device,
        batch_size=args.batch_size, images=args.images, reference_size=args.reference_size or REFERENCE_SIZE,
        progress=not args.quiet))
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for seed, out in outs.items():
            record = searcher.search(seed)
            write_result(out, record)
            _summary(record, out)
            if record["status"] == "interrupted":
                return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _summary(r: dict[str, Any], out: str) -> None:
    t = r["truth"] or {}
    acc = f"{t['accuracy']:.2f}% {t['metric']} (rank {t['rank']}/{t['n_cells']})" if t.get("accuracy") else "n/a"
    print(f"{r['space']}/{r['dataset']} {r['objective']['name']} seed {r['seed']}: {r['status']} after "
          f"{r['evaluations']} evals ({r['skipped']} skipped) in {r['wall_seconds']:.1f}s (objective "
          f"{r['objective_seconds']:.1f}s); best {r['best'].get('cell') or r['best'].get('arch')} -> {acc}; wrote {out}")
