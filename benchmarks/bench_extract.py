"""Extraction speed: seconds per NB201 network for all 13 proxies (batch 64), on CPU or a GPU.

Times ``ProxyEvaluator.evaluate`` (network build + every pass) over a seeded sample of archs after a warm-up, and
optionally the same proxies computed one call per proxy (how NASLib / zero-cost-nas run them) for the speed-up of
the pass grouping. Writes a section of benchmarks/results/extract.md.

    .venv/bin/python benchmarks/bench_extract.py --n 20 --device cpu --data-file \
../shared/datasets/cifar10-subset/cifar10_subset_uint8.npz
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdsection import write_section  # noqa: E402

from evoproxy import PROXIES  # noqa: E402
from evoproxy.extract import ProxyEvaluator, device_label  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NB201_SIZE = 15625


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def bench(ev: ProxyEvaluator, archs: list[str], names: list[str], separate: bool) -> dict:
    per_net, per_pass = [], {}
    for a in archs:
        _sync(ev.device)
        t0 = time.perf_counter()
        res = ev.evaluate_detailed(a, names)
        _sync(ev.device)
        per_net.append(time.perf_counter() - t0)
        for p, t in res.times.items():
            per_pass.setdefault(p, []).append(t)
    out = {"per_net": np.array(per_net), "per_proxy": {p: float(np.median(v)) for p, v in per_pass.items()}}
    if separate:
        sep = []
        for a in archs:
            _sync(ev.device)
            t0 = time.perf_counter()
            for n in names:
                ev.evaluate(a, [n])
            _sync(ev.device)
            sep.append(time.perf_counter() - t0)
        out["separate"] = np.array(sep)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="archs timed (after --warmup)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--separate", action="store_true", help="also time one compute() call per proxy")
    ap.add_argument("--data-file", default=str(REPO.parent / "shared/datasets/cifar10-subset/cifar10_subset_uint8.npz"))
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/extract.md"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    ev = ProxyEvaluator("nb201", "cifar10", args.batch_size, 0, args.device, args.data_file or None)
    archs = [ev.canonical(a) for a in ev.space.sample(args.n + args.warmup, 1)]
    bench(ev, archs[: args.warmup], names, False)
    r = bench(ev, archs[args.warmup :], names, args.separate)
    med = float(np.median(r["per_net"]))
    dev = device_label(ev.device)
    lines = [
        f"### Extraction speed on {dev}",
        "",
        f"NB201, {len(names)} proxies, batch {args.batch_size}, n = {args.n} archs (seeded sample, after "
        f"{args.warmup} warm-up), torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"{platform.processor() or platform.machine()}.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| median s / net (all {len(names)} proxies, incl. network build) | {med:.4f} |",
        f"| mean s / net | {r['per_net'].mean():.4f} |",
        f"| 90th percentile s / net | {np.percentile(r['per_net'], 90):.4f} |",
        f"| archs / s | {1 / r['per_net'].mean():.2f} |",
        f"| projected whole NB201 space ({NB201_SIZE} nets) | {NB201_SIZE * r['per_net'].mean() / 60:.1f} min |",
    ]
    if "separate" in r:
        sep = float(np.median(r["separate"]))
        lines.append(f"| median s / net, one call per proxy (NASLib style) | {sep:.4f} |")
        lines.append(f"| speed-up of the pass grouping | {sep / med:.2f}x |")
    lines += ["", "Median seconds per proxy (its passes; a shared pass split evenly among its parts):", "",
              "| " + " | ".join(r["per_proxy"]) + " |", "|" + "---:|" * len(r["per_proxy"]),
              "| " + " | ".join(f"{v:.4f}" for v in r["per_proxy"].values()) + " |", "",
              "Command: `python benchmarks/bench_extract.py " + " ".join(argv if argv is not None else sys.argv[1:])
              + "`"]
    md = "\n".join(lines)
    print(md)
    write_section(args.out, f"speed-{ev.device.type}", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
