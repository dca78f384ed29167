"""``evoproxy extract``: compute zero-cost proxies of a search space's architectures into a ProblemTable."""

from __future__ import annotations

import argparse
import time

from evoproxy.extract import extract


def _archs(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="compute zero-cost proxies of architectures (resumable) into a Parquet table")
    p.add_argument("--space", required=True, help="search space: nb201, nb101, nb301")
    p.add_argument("--dataset", default="cifar10", help="image task the networks are built for (default cifar10)")
    p.add_argument("--archs", type=_archs, default="all",
                   help="'all' (whole space), N (a seeded sample), or a file: one NASLib-encoded arch per line, or "
                        "a Parquet with an 'arch' column")
    p.add_argument("--proxies", default="all", help="'all' or a comma-separated list, e.g. nwot,synflow")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...")
    p.add_argument("--batch-size", type=int, default=64, help="minibatch size (default 64, as NAS-Bench-Suite-Zero)")
    p.add_argument("--seed", type=int, default=0, help="seed of the minibatch, the arch sample and the weight init")
    p.add_argument("--data-file", help="CIFAR-10 npz subset (x_train, y_train); default: the official tarball")
    p.add_argument("--data-root", help="where the official dataset is downloaded / cached")
    p.add_argument("--checkpoint-every", type=int, default=200, help="rewrite the Parquet every N archs")
    p.add_argument("--out", required=True, help="output Parquet (resumed when it exists)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    table = extract(args.space, args.archs, args.proxies, args.dataset, args.batch_size, args.seed, args.device,
                    args.data_file, args.out, root=args.data_root, checkpoint_every=args.checkpoint_every)
    print(f"{args.out}: {table.n} archs x {len(table.meta['computed_proxies'])} proxies "
          f"({table.meta['device']}, {time.perf_counter() - t0:.1f} s this run)")
    return 0
