"""Speed of the NAS stage: lookup searches per second, online seconds per evaluation, and a timed online search.

    .venv/bin/python benchmarks/bench_nas.py lookup --data DIR [--objective nwot] [--seeds 5] [--evals 1000]
    .venv/bin/python benchmarks/bench_nas.py per-eval --images NPZ [--objective nwot] [--n 20] [--device cpu]
    .venv/bin/python benchmarks/bench_nas.py online --data DIR --images NPZ --seconds 900 [--device cuda] [--seeds 1]

Each prints one markdown table row (with the machine) to paste into BENCHMARKS.md. ``online`` runs the real
``evoproxy search --mode online`` (the issue's target: <= 3 min per search on one H200 to a top-1% cifar10 cell).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
        return f"CPU {cpu} x{os.cpu_count()} (torch threads {torch.get_num_threads()}), torch {torch.__version__}"
    except ImportError:
        return f"CPU {cpu} x{os.cpu_count()}"


def cmd_lookup(a: argparse.Namespace) -> None:
    times, accs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.seeds):
            out = Path(tmp) / f"seed_{seed}.json"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "evoproxy", "search", "--space", "nb201", "--dataset", a.dataset,
                            "--objective", a.objective, "--mode", "lookup", "--data", a.data,
                            "--budget-evals", str(a.evals), "--seed", str(seed), "--quiet", "--out", str(out)],
                           check=True, capture_output=True)
            wall = time.perf_counter() - t
            rec = json.loads(out.read_text())
            times.append((wall, rec["wall_seconds"]))
            accs.append(rec["truth"]["accuracy"])
    proc = statistics.mean(w for w, _ in times)
    search = statistics.mean(s for _, s in times)
    print(f"| lookup search, aging {a.evals} evals, {a.objective}, nb201/{a.dataset} | {machine()} | "
          f"{search:.3f} s per search ({proc:.2f} s per process incl. start-up and table loading), "
          f"{a.evals / search:,.0f} evals/s; mean accuracy {statistics.mean(accs):.2f} over {a.seeds} seeds |")


def cmd_per_eval(a: argparse.Namespace) -> None:
    import numpy as np

    from evoproxy.extract import ProxyEvaluator
    from evoproxy.nas.objective import OnlineObjective, resolve_objective
    from evoproxy.spaces import get_space

    space = get_space("nb201")
    name, formula, info = resolve_objective(a.objective)
    ev = ProxyEvaluator(space, "cifar10", batch_size=a.batch_size, seed=0, device=a.device, data_file=a.images)
    obj = OnlineObjective(formula, ev)
    archs = space.sample(a.n + 1, seed=0)
    obj(archs[0])  # warm-up (first-call allocations, cudnn autotune)
    secs = []
    for arch in archs[1:]:
        t = time.perf_counter()
        obj(arch)
        secs.append(time.perf_counter() - t)
    s = np.array(secs)
    print(f"| online per-evaluation, {name} ({'+'.join(info['proxies'])}), batch {a.batch_size}, nb201/cifar10 | "
          f"{machine()} | median {np.median(s):.3f} s, mean {s.mean():.3f} s, p90 {np.quantile(s, 0.9):.3f} s "
          f"over {a.n} random cells -> {900 / s.mean():,.0f} evaluations in 15 min |")


def cmd_online(a: argparse.Namespace) -> None:
    rows = []
    out_dir = Path(a.out_dir)
    for seed in range(a.seeds):
        out = out_dir / f"online_{a.objective.replace('/', '_')}_seed_{seed}.json"
        subprocess.run([sys.executable, "-m", "evoproxy", "search", "--space", "nb201", "--dataset", "cifar10",
                        "--objective", a.objective, "--mode", "online", "--data", a.data, "--images", a.images,
                        "--device", a.device, "--budget-seconds", str(a.seconds), "--seed", str(seed), "--quiet",
                        "--out", str(out)], check=True)
        rec = json.loads(out.read_text())
        t = rec["truth"]
        rows.append(f"| online search, {a.objective}, {a.seconds:.0f} s budget, seed {seed} | {machine()} | "
                    f"{rec['evaluations']} evals ({rec['objective_seconds']:.0f} s proxies, "
                    f"{rec['overhead_seconds']:.1f} s overhead), best found after {rec['best']['found_at_seconds']:.0f}"
                    f" s: {rec['best']['cell']} -> {t['accuracy']:.2f}% cifar10 valid, rank {t['rank']}/"
                    f"{t['n_cells']} (top {t['top_percent']:.2f}%) |")
    print("\n".join(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    lk = sub.add_parser("lookup")
    lk.add_argument("--data", required=True)
    lk.add_argument("--dataset", default="cifar10")
    lk.add_argument("--objective", default="nwot")
    lk.add_argument("--seeds", type=int, default=5)
    lk.add_argument("--evals", type=int, default=1000)
    pe = sub.add_parser("per-eval")
    pe.add_argument("--images", required=True)
    pe.add_argument("--objective", default="nwot")
    pe.add_argument("--n", type=int, default=20)
    pe.add_argument("--batch-size", type=int, default=64)
    pe.add_argument("--device", default="cpu")
    on = sub.add_parser("online")
    on.add_argument("--data", required=True)
    on.add_argument("--images", required=True)
    on.add_argument("--objective", default="nwot")
    on.add_argument("--seconds", type=float, default=900)
    on.add_argument("--seeds", type=int, default=1)
    on.add_argument("--device", default="auto")
    on.add_argument("--out-dir", default="benchmarks/results/nas_runs")
    a = p.parse_args()
    {"lookup": cmd_lookup, "per-eval": cmd_per_eval, "online": cmd_online}[a.cmd](a)


if __name__ == "__main__":
    main()
