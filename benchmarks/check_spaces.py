"""Check the search-space networks against NAS-Bench-Suite-Zero: params and FLOPs of every mirror arch (cifar10).

    .venv/bin/python benchmarks/check_spaces.py [--mirror ../shared/benchmarks/nb-suite-zero] [--limit N]
        [--out benchmarks/results/spaces.md]

For each space, every arch of the release file (or the first N) is built with ``get_space(space).to_model(arch)`` and
its parameter count compared with the release's ``params``; FLOPs (one 1x3x32x32 sample,
``evoproxy.proxies.compute(names=["flops"])``) are compared with the release's ``flops`` on the first
``--flops-limit`` archs (a forward pass each). Also reports the median model construction time (CPU, 1 thread).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from evoproxy.proxies import compute
from evoproxy.spaces import get_space

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdsection import write_section  # noqa: E402

FILES = {"nb201": "zc_nasbench201.json", "nb101": "zc_nasbench101.json", "nb301": "zc_nasbench301.json"}


def check(space_name: str, mirror: Path, limit: int | None, flops_limit: int) -> dict:
    records = json.loads((mirror / FILES[space_name]).read_text())["cifar10"]
    keys = sorted(records)[:limit] if limit else sorted(records)
    space = get_space(space_name)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ok_p = ok_f = n_f = 0
    worst_p = worst_f = 0.0
    build: list[float] = []
    for k, key in enumerate(keys):
        t = time.perf_counter()
        model = space.to_model(key)
        build.append(time.perf_counter() - t)
        dp = abs(sum(p.numel() for p in model.parameters()) / 1e6 - records[key]["params"]["score"])
        ok_p += dp <= 1e-6
        worst_p = max(worst_p, dp)
        if k < flops_limit:
            got = compute(model, x, None, names=["flops"])["flops"]
            df = abs(got - records[key]["flops"]["score"]) / records[key]["flops"]["score"]
            ok_f += df <= 1e-9
            n_f += 1
            worst_f = max(worst_f, df)
    return {
        "space": space_name,
        "n": len(keys),
        "params_exact": ok_p,
        "n_flops": n_f,
        "flops_exact": ok_f,
        "max_abs_params_diff_M": worst_p,
        "max_rel_flops_diff": worst_f,
        "median_build_ms": 1000 * statistics.median(build),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path(__file__).resolve().parents[2] / "shared/benchmarks/nb-suite-zero")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--flops-limit", type=int, default=200)
    ap.add_argument("--spaces", default="nb201,nb101,nb301")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "spaces.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in args.spaces.split(","):
        t = time.perf_counter()
        row = check(name, args.mirror, args.limit, args.flops_limit)
        row["wall_s"] = time.perf_counter() - t
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = [
        "### Search-space networks vs the release (params, FLOPs)",
        "",
        f"`{' '.join(sys.argv)}` on CPU (1 thread), torch {torch.__version__}. An arch counts as exact when "
        "|params - release| <= 1e-6 M and FLOPs agree to a relative 1e-9. Build times were measured on a shared, heavily loaded 2-core machine (upper bounds).",
        "",
        "| space | archs | params exact | FLOPs exact (of n) | max abs params diff (M) | max rel FLOPs diff | "
        "median model build (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['space']} | {r['n']} | {r['params_exact']} | {r['flops_exact']} of {r['n_flops']} | "
            f"{r['max_abs_params_diff_M']:.2g} | "
            f"{r['max_rel_flops_diff']:.2g} | {r['median_build_ms']:.1f} |"
        )
    write_section(args.out, "spaces", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
