"""``evoproxy supervised``: the supervised reference of each (test problem, seed), once for every evaluation."""

from __future__ import annotations

import argparse

from evoproxy.cli import add_split_arguments, split_overrides
from evoproxy.fileio import atomic_path, check_output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supervised", help="fit the supervised reference (HistGradientBoosting on labelled proxies) "
                                          "of each test problem once; evaluate --supervised reads it")
    p.add_argument("--data", required=True, help="folder of ingested problem tables")
    p.add_argument("--cases", required=True,
                   help="comma-separated PROBLEM@SEED (an evaluation's test problem k uses seed --seed + k)")
    p.add_argument("--n-supervised", type=int, default=400, help="labelled archs of each problem's train split")
    add_split_arguments(p, "the schema's")
    p.add_argument("--out", required=True, help="output Parquet (problem, seed, n_supervised, arch, score)")
    p.set_defaults(func=run)


def parse_cases(text: str) -> list[tuple[str, int]]:
    """``"nb101/cifar10@0,nb201/cifar10@1"`` -> ``[("nb101/cifar10", 0), ("nb201/cifar10", 1)]``."""
    cases = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        pid, sep, seed = item.rpartition("@")
        if not sep or not pid or not seed.lstrip("-").isdigit():
            raise ValueError(f"--cases: expected PROBLEM@SEED items, got {item!r}")
        cases.append((pid, int(seed)))
    if not cases:
        raise ValueError("--cases: no PROBLEM@SEED given")
    return cases


def run(args: argparse.Namespace) -> int:
    from evoproxy.evaluate import supervised_table
    from evoproxy.problems import SplitConfig, load_problems

    check_output_file(args.out)
    cases = parse_cases(args.cases)
    split_cfg = SplitConfig.from_dict(split_overrides(args), "supervised split")
    tables = load_problems(args.data, list(dict.fromkeys(pid for pid, _ in cases)))
    df = supervised_table(tables, cases, args.n_supervised, split_cfg)
    with atomic_path(args.out) as tmp:
        df.to_parquet(tmp, index=False)
    print(f"{args.out}: {df.groupby(['problem', 'seed']).ngroups} supervised references, {len(df)} test archs")
    return 0
