"""Extraction speed: seconds per NB201 network for all 13 proxies (batch 64), FLOPs and GFLOP/s of each pass.

Times ``ProxyEvaluator.evaluate_detailed`` (network build + every pass) over a seeded sample of archs after a
warm-up. FLOPs of each pass are counted with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and
matrix products, forward and backward; elementwise ops are not counted) on the first ``--flop-archs`` archs, and
divided by the same archs' measured pass seconds; a 1-thread SGEMM gives the machine's reference rate.
``--baseline REV`` also times the proxies package of git revision REV on the same networks, alternating which goes
first, and compares the values; ``--separate`` times one call per proxy (NASLib style). The 1-minute load average
is recorded before and after (the machine may be shared). Writes a section of benchmarks/results/extract.md (and
of ``--benchmarks-md`` when given).

    .venv/bin/python benchmarks/bench_extract.py --n 20 --device cpu --threads 1 --baseline 89d9534
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdsection import write_section  # noqa: E402

from evoproxy import PROXIES  # noqa: E402
from evoproxy.extract import ProxyEvaluator, device_label  # noqa: E402
from evoproxy.proxies import PASS_REGISTRY, compute_detailed, passes_for  # noqa: E402
from evoproxy.proxies.passes import run_passes  # noqa: E402
from evoproxy.spaces import get_space  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NB201_SIZE = 15625
SHARED = "minibatch"  # the shared forward's steps are reported together: they share one forward and its graph


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _groups(names: list[str]) -> dict[str, list[str]]:
    """Pass groups in execution order: each stand-alone pass, and the shared minibatch steps as one group."""
    out: dict[str, list[str]] = {}
    for p in passes_for(names):
        out.setdefault(SHARED if PASS_REGISTRY[p].shared else p, []).append(p)
    return out


def sgemm_gflops(dev: torch.device, n: int = 2048, reps: int = 5) -> float:
    """Achieved GFLOP/s of an n x n float32 matrix product (the machine's reference rate)."""
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    a @ b
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(dev)
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


class FlopCount(TorchDispatchMode):
    """Sum of FLOPs of the aten ops run inside, by ``torch.utils.flop_counter``'s formulas (convolutions and matrix
    products, forward and backward). FlopCounterMode itself tracks modules with hooks that ``autograd.grad`` on a
    leaf input rejects, so only its formula table is used."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def _flops_of(ev: ProxyEvaluator, net: torch.nn.Module, passes: set[str]) -> float:
    # inference_mode skips Python dispatch modes: count under no_grad (same ops, same values)
    with FlopCount() as fc, mock.patch.object(torch, "inference_mode", torch.no_grad):
        run_passes(net, ev.inputs, ev.targets, passes, getattr(ev, "loss_fn", None), 1, ev.seed)
    return float(fc.total)


def count_flops(ev: ProxyEvaluator, arch: str, groups: dict[str, list[str]]) -> dict[str, float]:
    """FLOPs of each pass group on ``arch`` (one counted run per group)."""
    net = ev.model(arch)
    return {g: _flops_of(ev, net, set(passes)) for g, passes in groups.items()}


def step_flops(ev: ProxyEvaluator, arch: str, steps: list[str]) -> dict[str, float]:
    """Marginal FLOPs of each minibatch step: the shared forward with the steps up to it minus without it."""
    net = ev.model(arch)
    out, prev = {}, 0.0
    for i, s in enumerate(steps):
        total = _flops_of(ev, net, set(steps[: i + 1]))
        out[s], prev = total - prev, total
    return out


def load_baseline(rev: str) -> Any:
    """The ``evoproxy.proxies`` package of git revision ``rev``, imported under another name."""
    alias = "evoproxy_proxies_" + re.sub(r"\W", "_", rev)
    data = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src/evoproxy/proxies"], check=True,
                          capture_output=True).stdout
    root = Path(tempfile.mkdtemp(prefix="bench_baseline_"))
    pkg = root / alias
    pkg.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(".py"):
                text = tar.extractfile(m).read().decode()
                (pkg / Path(m.name).name).write_text(text.replace("evoproxy.proxies", alias))
    sys.path.insert(0, str(root))
    return importlib.import_module(alias)


def bench(ev: ProxyEvaluator, archs: list[str], names: list[str], separate: bool) -> dict:
    per_net, cpu, per_proxy = [], [], {}
    for a in archs:
        _sync(ev.device)
        t0, c0 = time.perf_counter(), time.process_time()
        res = ev.evaluate_detailed(a, names)
        _sync(ev.device)
        per_net.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        for p, t in res.times.items():
            per_proxy.setdefault(p, []).append(t)
    out = {"per_net": np.array(per_net), "cpu": np.array(cpu), "per_proxy": {p: float(np.median(v)) for p, v in per_proxy.items()}}
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


def pass_seconds(ev: ProxyEvaluator, arch: str, names: list[str], groups: dict[str, list[str]]) -> dict[str, float]:
    """Seconds of each pass group of one ``compute_detailed`` call on ``arch`` (network built beforehand)."""
    net = ev.model(arch)
    _sync(ev.device)
    res = compute_detailed(net, ev.inputs, ev.targets, names, getattr(ev, "loss_fn", None), seed=ev.seed)
    return {g: sum(res.pass_times[p] for p in passes) for g, passes in groups.items()}


def side_by_side(ev: ProxyEvaluator, archs: list[str], names: list[str], base: Any) -> list[dict]:
    """Per arch: seconds of the baseline and the current compute on the same network (order alternating) and the
    largest relative difference of their values."""
    rows = []
    for i, a in enumerate(archs):
        net = ev.model(a)
        runs = {}
        order = [("base", base.compute_detailed), ("new", compute_detailed)]
        for key, fn in order if i % 2 == 0 else order[::-1]:
            _sync(ev.device)
            t0 = time.perf_counter()
            r = fn(net, ev.inputs, ev.targets, names, getattr(ev, "loss_fn", None), seed=ev.seed)
            _sync(ev.device)
            runs[key] = (time.perf_counter() - t0, r.values)
        vb, vn = runs["base"][1], runs["new"][1]
        diff = max((abs(vn[p] - vb[p]) / max(abs(vb[p]), 1e-30) for p in names if vn[p] != vb[p]), default=0.0)
        rows.append({"arch": a, "base": runs["base"][0], "new": runs["new"][0], "diff": diff, "load": _load()})
    return rows


def _op_group(name: str) -> str:
    if "convolution" in name or "slow_conv" in name:
        return "convolutions (forward, backward, double backward)"
    if "pool" in name:
        return "pooling (forward, backward)"
    if name == "aten::copy_":
        return "copies (layout conversions, clones)"
    if "batch_norm" in name:
        return "BatchNorm kernels"
    if name in ("aten::mm", "aten::matmul", "aten::addmm", "aten::bmm"):
        return "matrix products (nwot kernel, classifier)"
    return "other elementwise ops and reductions"


def op_profile(ev: ProxyEvaluator, archs: list[str], names: list[str], fn: Any) -> tuple[dict[str, float], float]:
    """Self CPU seconds per net of each op group (torch.profiler) and the seconds inside the BatchNorm double
    backward (grasp's Hessian-vector product through BatchNorm), for ``fn`` = a ``compute_detailed``."""
    from torch.profiler import ProfilerActivity, profile

    nets = [ev.model(a) for a in archs]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for net in nets:
            fn(net, ev.inputs, ev.targets, names, getattr(ev, "loss_fn", None), seed=ev.seed)
    groups: dict[str, float] = {}
    bnbb = 0.0
    for e in prof.key_averages():
        if e.key.startswith("aten::"):
            g = _op_group(e.key)
            groups[g] = groups.get(g, 0.0) + e.self_cpu_time_total / 1e6 / len(nets)
        if e.key == "NativeBatchNormBackwardBackward0":
            bnbb += e.cpu_time_total / 1e6 / len(nets)
    return groups, bnbb


def _worker(rank: int, k: int, archs: list[str], names: list[str], settings: dict, barrier: Any, queue: Any) -> None:
    """One of ``k`` processes of :func:`parallel`: its share of ``archs``, the first as warm-up, the rest timed
    from a barrier all workers pass together."""
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // k))
    ev = ProxyEvaluator("nb201", "cifar10", **settings)
    mine = archs[rank::k]
    ev.evaluate(mine[0], names)
    _sync(ev.device)
    barrier.wait()
    t0 = time.time()
    for a in mine[1:]:
        ev.evaluate(a, names)
    _sync(ev.device)
    queue.put((rank, len(mine) - 1, t0, time.time()))


def parallel(k: int, n_per_worker: int, names: list[str], args: argparse.Namespace) -> dict:
    """Aggregate throughput of ``k`` processes extracting disjoint NB201 archs on the same device (several nets at
    once: on a GPU one NB201 net at batch 64 leaves most of it idle)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    archs = [str(a) for a in get_space("nb201").sample(k * (n_per_worker + 1), 7)]
    settings = {"batch_size": args.batch_size, "seed": 0, "device": args.device, "data_file": args.data_file or None}
    barrier, queue = ctx.Barrier(k), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(i, k, archs, names, settings, barrier, queue)) for i in range(k)]
    for p in procs:
        p.start()
    rows = [queue.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"worker exited with {p.exitcode}")
    nets = sum(r[1] for r in rows)
    wall = max(r[3] for r in rows) - min(r[2] for r in rows)
    return {"workers": k, "nets": nets, "wall": wall, "s_per_net": wall / nets}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="archs timed (after --warmup)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--separate", action="store_true", help="also time one compute() call per proxy")
    ap.add_argument("--flop-archs", type=int, default=3, help="archs whose pass FLOPs are counted (0: none)")
    ap.add_argument("--baseline", default=None, help="git revision whose proxies package is timed side by side")
    ap.add_argument("--profile", type=int, default=0,
                    help="profile this many archs by op group (and the --baseline's, before/after)")
    ap.add_argument("--workers", type=int, default=0,
                    help="also measure the aggregate throughput of this many processes extracting at once")
    ap.add_argument("--worker-nets", type=int, default=10, help="nets timed per worker (--workers)")
    ap.add_argument("--data-file", default=str(REPO.parent / "shared/datasets/cifar10-subset/cifar10_subset_uint8.npz"))
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/extract.md"))
    ap.add_argument("--benchmarks-md", default=None, help="also write the section into this file (BENCHMARKS.md)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    ev = ProxyEvaluator("nb201", "cifar10", batch_size=args.batch_size, seed=0, device=args.device,
                        data_file=args.data_file or None)
    archs = [ev.canonical(a) for a in ev.space.sample(args.n + args.warmup, 1)]
    groups = _groups(names)
    load0 = _load()
    bench(ev, archs[: args.warmup], names, False)
    t_start = time.time()
    r = bench(ev, archs[args.warmup :], names, args.separate)
    load1 = _load()
    timed = archs[args.warmup :]
    k = min(args.flop_archs, len(timed))
    flops = [count_flops(ev, a, groups) for a in timed[:k]]
    secs = [pass_seconds(ev, a, names, groups) for a in timed[:k]]
    steps = groups.get(SHARED, [])
    marginal = step_flops(ev, timed[0], steps) if k and steps else {}
    base = None
    base_mod = load_baseline(args.baseline) if args.baseline else None
    if base_mod is not None:
        base = side_by_side(ev, timed, names, base_mod)
    prof = {}
    if args.profile:
        if base_mod is not None:
            prof["before"] = op_profile(ev, timed[: args.profile], names, base_mod.compute_detailed)
        prof["after"] = op_profile(ev, timed[: args.profile], names, compute_detailed)
        prof_load = _load()
    par = parallel(args.workers, args.worker_nets, names, args) if args.workers > 0 else None
    gemm = sgemm_gflops(ev.device)
    med = float(np.median(r["per_net"]))
    dev = device_label(ev.device)
    lines = [
        f"### Extraction speed on {dev}",
        "",
        f"NB201, {len(names)} proxies, batch {args.batch_size}, n = {args.n} archs (seeded sample, after "
        f"{args.warmup} warm-up), torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"{platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d', time.localtime(t_start))}; "
        f"1-min load average {load0:.2f} before, {load1:.2f} after the timed runs (on {os.cpu_count()} cores).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| median s / net (all {len(names)} proxies, incl. network build) | {med:.4f} |",
        f"| worst s / net | {r['per_net'].max():.4f} |",
        f"| median CPU s / net (this process; less sensitive to other jobs than wall time) | "
        f"{np.median(r['cpu']):.4f} |",
        f"| mean s / net | {r['per_net'].mean():.4f} |",
        f"| archs / s | {1 / r['per_net'].mean():.2f} |",
        f"| projected whole NB201 space ({NB201_SIZE} nets) | {NB201_SIZE * r['per_net'].mean() / 60:.1f} min |",
        f"| reference: float32 GEMM 2048^3 on this device | {gemm:.1f} GFLOP/s |",
    ]
    if par is not None:
        lines.append(f"| {par['workers']} processes at once: aggregate s / net ({par['nets']} nets in "
                     f"{par['wall']:.1f} s) | {par['s_per_net']:.4f} |")
        lines.append(f"| {par['workers']} processes at once: projected whole NB201 space | "
                     f"{NB201_SIZE * par['s_per_net'] / 60:.1f} min |")
    if "separate" in r:
        sep = float(np.median(r["separate"]))
        lines.append(f"| median s / net, one call per proxy (NASLib style) | {sep:.4f} |")
        lines.append(f"| speed-up of the pass grouping | {sep / med:.2f}x |")
    if k:
        lines += ["", f"FLOPs and rate per pass (median over the first {k} timed archs; FLOPs by "
                  "`torch.utils.flop_counter`: conv and matmul, forward and backward, elementwise not counted; "
                  f"`{SHARED}` = the shared train-mode forward with its steps {', '.join(steps)}):", "",
                  "| pass | GFLOP | s | GFLOP/s |", "|---|---:|---:|---:|"]
        for g in groups:
            gf = [f[g] / 1e9 for f in flops]
            s = [x[g] for x in secs]
            rate = np.median([a / b for a, b in zip(gf, s, strict=True) if b > 0]) if any(s) else float("nan")
            lines.append(f"| {g} | {np.median(gf):.2f} | {np.median(s):.4f} | {rate:.1f} |")
        tot_gf = [sum(f.values()) / 1e9 for f in flops]
        tot_s = [sum(x.values()) for x in secs]
        lines.append(f"| all passes | {np.median(tot_gf):.2f} | {np.median(tot_s):.4f} | "
                     f"{np.median([a / b for a, b in zip(tot_gf, tot_s, strict=True)]):.1f} |")
        if marginal:
            lines += ["", f"Marginal GFLOP of each {SHARED} step on {timed[0]} (the forward with the steps up to "
                      "it, minus without it): " + ", ".join(f"{s} {v / 1e9:.2f}" for s, v in marginal.items()) + "."]
    if base is not None:
        ratio = np.array([b["base"] / b["new"] for b in base])
        lines += ["", f"Side by side with the proxies package of `{args.baseline}` on the same networks (compute only, "
                  "no network build; which runs first alternates per arch):", "",
                  "| arch | baseline s | current s | speed-up | max rel value diff | load |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {b['arch']} | {b['base']:.3f} | {b['new']:.3f} | {b['base'] / b['new']:.2f}x | "
                  f"{b['diff']:.1e} | {b['load']:.2f} |" for b in base]
        lines += ["", f"Speed-up median {np.median(ratio):.2f}x, worst {ratio.min():.2f}x (n = {len(base)}); "
                  f"median s / net baseline {np.median([b['base'] for b in base]):.3f}, current "
                  f"{np.median([b['new'] for b in base]):.3f}; largest value difference "
                  f"{max(b['diff'] for b in base):.1e}."]
    if prof:
        cols = list(prof)
        heads = {"before": f"`{args.baseline}`", "after": "current"}
        order = sorted(prof[cols[-1]][0], key=lambda g: -prof[cols[0]][0].get(g, 0.0))
        lines += ["", f"Where the time goes: torch.profiler self CPU seconds per net by op group, over the first "
                  f"{args.profile} timed archs (profiler overhead included; load {prof_load:.2f}):", "",
                  "| op group | " + " | ".join(heads[c] for c in cols) + " |", "|---|" + "---:|" * len(cols)]
        lines += [f"| {g} | " + " | ".join(f"{prof[c][0].get(g, 0.0):.3f}" for c in cols) + " |" for g in order]
        lines += ["| all ops | " + " | ".join(f"{sum(prof[c][0].values()):.3f}" for c in cols) + " |",
                  "| of which inside the BatchNorm double backward (grasp) | "
                  + " | ".join(f"{prof[c][1]:.3f}" for c in cols) + " |"]
    lines += ["", "Median seconds per proxy (its passes; a shared pass split evenly among its parts):", "",
              "| " + " | ".join(r["per_proxy"]) + " |", "|" + "---:|" * len(r["per_proxy"]),
              "| " + " | ".join(f"{v:.4f}" for v in r["per_proxy"].values()) + " |", "",
              "Command: `python benchmarks/bench_extract.py " + " ".join(argv if argv is not None else sys.argv[1:])
              + "`"]
    md = "\n".join(lines)
    print(md)
    write_section(args.out, f"speed-{ev.device.type}", md)
    if args.benchmarks_md:
        write_section(args.benchmarks_md, f"speed-{ev.device.type}", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
