"""``evoproxy extract``: compute zero-cost proxies of a search space's architectures into a ProblemTable."""

from __future__ import annotations

import argparse
import time

from evoproxy.extract import ProxyEvaluator, extract


def _archs(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="compute zero-cost proxies of architectures (resumable) into a Parquet table")
    p.add_argument("--space", required=True, help="search space: nb201, nb101, nb301, tnb101_micro, tnb101_macro")
    p.add_argument("--dataset", default=None,
                   help="task the networks are built for: cifar10 (default), cifar100, ImageNet16-120; TransNAS-Bench"
                        "-101: class_scene (default), class_object, jigsaw, room_layout, segmentsemantic, normal, "
                        "autoencoder")
    p.add_argument("--archs", type=_archs, default="all",
                   help="'all' (whole space), N (a seeded sample), or a file: one NASLib-encoded arch per line, or "
                        "a Parquet with an 'arch' column")
    p.add_argument("--proxies", default="all", help="'all' or a comma-separated list, e.g. nwot,synflow")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...")
    p.add_argument("--batch-size", type=int, default=None,
                   help="minibatch size (default: the release's for the space and task: 64 on nb201 cifar10 and "
                        "ImageNet16-120, else 32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the minibatch, the arch sample and the weight init")
    p.add_argument("--data-file",
                   help="images: CIFAR npz (x_train, y_train) or official tarball (default: downloaded); Taskonomy "
                        "folder for TransNAS-Bench-101 tasks. Not needed for data-free proxies (params, flops, "
                        "l2_norm, synflow, zen)")
    p.add_argument("--data-root", help="where the official dataset is downloaded / cached")
    p.add_argument("--checkpoint-every", type=int, default=200, help="rewrite the Parquet every N archs")
    p.add_argument("--out", required=True, help="output Parquet (resumed when it exists)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    if args.dataset is None:
        from evoproxy.spaces import get_space

        args.dataset = get_space(args.space).default_task
    evaluator = ProxyEvaluator(args.space, args.dataset, args.batch_size, args.seed, args.device, args.data_file,
                               root=args.data_root)
    table = extract(evaluator, args.archs, args.proxies, args.out, checkpoint_every=args.checkpoint_every)
    print(f"{args.out}: {table.n} archs x {len(table.meta['computed_proxies'])} proxies "
          f"({table.meta['device']}, batch {table.meta['batch_size']}, {time.perf_counter() - t0:.1f} s this run)")
    return 0
