"""``evoproxy search``: proxy-guided NAS (aging evolution or random search) with a formula or proxy as objective."""

from __future__ import annotations

import argparse
import logging
import signal
import time
from typing import Any

from evoproxy.cli import CLIError

log = logging.getLogger("evoproxy.search")


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
    p.add_argument("--device", default="auto", help="online mode: cpu, cuda, cuda:N or auto")
    p.add_argument("--batch-size", type=int, default=None,
                   help="online mode: minibatch size for the proxies (default: the release's for the space and task)")
    p.add_argument("--images",
                   help="online mode: dataset file (CIFAR npz or official tarball/folder; a Taskonomy folder for "
                        "TransNAS-Bench-101 tasks); not needed for data-free objectives (params, flops, l2_norm, "
                        "synflow, zen)")
    p.add_argument("--out", required=True, help="result JSON (written atomically, also on Ctrl-C)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _raise_interrupt(signum: int, frame: Any) -> None:  # noqa: ARG001
    raise KeyboardInterrupt


def _online_objective(args: argparse.Namespace, space: Any, formula: Any) -> tuple[Any, dict[str, Any]]:
    """Build the online objective from the extraction stage (imports torch only here)."""
    from evoproxy.data.taskonomy import TASKONOMY_TASKS
    from evoproxy.nas.objective import OnlineObjective

    try:
        from evoproxy.extract import ProxyEvaluator, needs_data
    except ImportError as exc:  # pragma: no cover - the extraction stage is part of the package
        raise CLIError(f"online mode needs evoproxy.extract.ProxyEvaluator ({exc})") from exc
    evaluator = ProxyEvaluator(space=space, dataset=args.dataset, batch_size=args.batch_size, seed=args.seed,
                               device=args.device, data_file=args.images)
    if needs_data(list(formula.proxies)):
        if args.images is None and args.dataset in TASKONOMY_TASKS:
            raise CLIError(f"objective {args.objective} uses proxies that need images ({', '.join(formula.proxies)}):"
                           f" pass --images with a Taskonomy folder for {args.space}/{args.dataset}")
        evaluator.inputs  # noqa: B018 - load the minibatch now: a bad --images file fails before the search
    info = {"device": str(getattr(evaluator, "device", args.device)), "batch_size": evaluator.batch_size,
            "images": args.images}
    return OnlineObjective(formula, evaluator), info


def run(args: argparse.Namespace) -> int:
    from evoproxy.nas.evolution import Budget, run_search
    from evoproxy.nas.objective import LookupObjective, RandomObjective, resolve_objective
    from evoproxy.nas.results import build_record, load_ground_truth, write_result
    from evoproxy.problems import load_problem
    from evoproxy.spaces import get_space

    if args.budget_evals is None and args.budget_seconds is None:
        raise CLIError("give --budget-evals and/or --budget-seconds")
    budget = Budget(evals=args.budget_evals, seconds=args.budget_seconds)
    if args.mode == "lookup" and not args.data:
        raise CLIError("lookup mode needs --data (the folder of ingested tables)")
    space = get_space(args.space)
    args.dataset = args.dataset or space.default_task
    name, formula, objective_info = resolve_objective(args.objective)
    extra: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k not in ("func", "command")}}
    setup_t = time.perf_counter()
    lookup = None
    if formula is None:
        objective: Any = RandomObjective(args.seed)
    elif args.mode == "lookup":
        table = load_problem(args.data, f"{args.space}/{args.dataset}")
        lookup = objective = LookupObjective(formula, table, where=f"{args.data}/{args.space}__{args.dataset}")
        extra["lookup"] = {"table_archs": table.n, "nonfinite_scores": objective.nonfinite}
    else:
        objective, extra["online"] = _online_objective(args, space, formula)
    extra["setup_seconds"] = time.perf_counter() - setup_t
    truth = load_ground_truth(args.data, args.space, args.dataset) if args.data else None

    log.info("searching %s/%s: objective %s (%s mode), %s, budget %s evals / %s s, seed %d", args.space,
             args.dataset, name, args.mode, args.algorithm, args.budget_evals, args.budget_seconds, args.seed)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        result = run_search(args.algorithm, space, objective, budget, seed=args.seed, population=args.population,
                            sample_size=args.sample_size, progress=not args.quiet)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if lookup is not None:
        extra["lookup"]["skipped_not_in_table"] = lookup.missing
    if hasattr(objective, "proxy_seconds"):
        extra["online"]["proxy_seconds"] = objective.proxy_seconds
        extra["online"]["nonfinite_scores"] = objective.failures
    objective_info = {"name": name, **objective_info}
    record = build_record(result, space=args.space, dataset=args.dataset, mode=args.mode,
                          objective=objective_info, truth=truth, extra=extra)
    write_result(args.out, record)
    t = record["truth"] or {}
    acc = f"{t['accuracy']:.2f}% {t['metric']} (rank {t['rank']}/{t['n_cells']})" if t.get("accuracy") else "n/a"
    print(f"{args.space}/{args.dataset} {name} seed {args.seed}: {result.status} after {result.evaluations} evals "
          f"({result.skipped} skipped) in {result.wall_seconds:.1f}s (objective {result.objective_seconds:.1f}s); "
          f"best {record['best'].get('cell') or result.best_arch} -> {acc}; wrote {args.out}")
    return 130 if result.status == "interrupted" else 0
