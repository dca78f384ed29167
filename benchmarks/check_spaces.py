"""Check the search-space networks against NAS-Bench-Suite-Zero: params and FLOPs of every mirror arch, and for
TransNAS-Bench-101 also the data-free proxies synflow and zen.

    .venv/bin/python benchmarks/check_spaces.py [--spaces nb201,nb101,nb301,tnb101_micro,tnb101_macro]
        [--mirror ../shared/benchmarks/nb-suite-zero] [--limit N] [--proxy-archs 50] [--out benchmarks/results/spaces.md]

NB101 / NB201 / NB301 (cifar10): every arch of the release file (or the first N) is built with
``get_space(space).to_model(arch)`` and its parameter count compared with the release's ``params``; FLOPs (one
1x3x32x32 sample, ``evoproxy.proxies.compute(names=["flops"])``) on the first ``--flops-limit`` archs.

TransNAS-Bench-101 (every released task): every arch is built for its task on the meta device (shapes only, no
weights) and compared with the release's ``params``; FLOPs of one sample are counted from the same shape-only
forward twice, with our flops proxy's rule (each leaf-module call counted) and torchstat's (each module's last
call, what the release's tensorwatch counter does); the first ``--real-limit`` archs of each task are also counted by
``compute(["params", "flops"])`` on real CPU tensors, which must give the same numbers. Then synflow and zen
(data-free) on a seeded sample of ``--proxy-archs`` class_scene archs with two init / input seeds: Spearman rho with
the release, and between the two seeds (the run-to-run noise ceiling).

Rows of spaces not checked in this run are kept from ``benchmarks/results/spaces.json``; the markdown goes into the
``spaces`` section of ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from evoproxy.metrics import spearman
from evoproxy.proxies import compute
from evoproxy.proxies.flops import flop_counts
from evoproxy.spaces import get_space

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdsection import write_section  # noqa: E402

FILES = {"nb201": "zc_nasbench201.json", "nb101": "zc_nasbench101.json", "nb301": "zc_nasbench301.json",
         "tnb101_micro": "zc_transbench101_micro.json", "tnb101_macro": "zc_transbench101_macro.json"}
TNB = ("tnb101_micro", "tnb101_macro")
RESULTS = Path(__file__).resolve().parent / "results"


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


# -------------------------------------------------------------------------------------------- TransNAS-Bench-101
def check_tnb(space_name: str, mirror: Path, limit: int | None, real_limit: int) -> list[dict]:
    """Per released task: params and FLOPs (both counting rules) of every arch vs the release."""
    data = json.loads((mirror / FILES[space_name]).read_text())
    space = get_space(space_name)
    rows = []
    for task, records in data.items():
        keys = sorted(records)[:limit] if limit else sorted(records)
        shape = space.task(task).input_shape
        meta_x = torch.zeros(1, *shape, device="meta")
        ok_p = ok_sum = ok_last = real_ok = 0
        worst_p = worst_sum = worst_last = 0.0
        build: list[float] = []
        for k, key in enumerate(keys):
            rel = records[key]
            t = time.perf_counter()
            with torch.device("meta"):
                model = space.model_for(key, task)
            build.append(time.perf_counter() - t)
            params = sum(p.numel() for p in model.parameters()) / 1e6
            f_sum, f_last = flop_counts(model, meta_x)
            dp = abs(params - rel["params"]["score"])
            ds = abs(f_sum - rel["flops"]["score"]) / rel["flops"]["score"]
            dl = abs(f_last - rel["flops"]["score"]) / rel["flops"]["score"]
            ok_p, ok_sum, ok_last = ok_p + (dp <= 1e-9), ok_sum + (ds <= 1e-9), ok_last + (dl <= 1e-9)
            worst_p, worst_sum, worst_last = max(worst_p, dp), max(worst_sum, ds), max(worst_last, dl)
            if k < real_limit:  # the public proxy API on real tensors gives the same counts
                got = compute(space.model_for(key, task), torch.zeros(1, *shape), None, ["params", "flops"])
                real_ok += math.isclose(got["params"], params, abs_tol=1e-12) and math.isclose(
                    got["flops"], f_sum, rel_tol=1e-12)
        rows.append({"space": space_name, "task": task, "n": len(keys), "params_exact": ok_p,
                     "max_abs_params_diff_M": worst_p, "flops_exact": ok_sum, "max_rel_flops_diff": worst_sum,
                     "flops_last_call_exact": ok_last, "max_rel_flops_last_call_diff": worst_last,
                     "real_checked": min(real_limit, len(keys)), "real_equal": real_ok,
                     "median_meta_build_ms": 1000 * statistics.median(build)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def check_proxies(space_name: str, mirror: Path, task: str, n: int, seeds: tuple[int, int]) -> dict:
    """synflow and zen (no images) of ``n`` seeded release archs, with two init / input seeds."""
    from evoproxy.extract import ProxyEvaluator

    records = json.loads((mirror / FILES[space_name]).read_text())[task]
    keys = sorted(records)
    rng = np.random.default_rng(0)
    keys = [keys[i] for i in sorted(rng.choice(len(keys), size=min(n, len(keys)), replace=False))]
    ours = {s: {"synflow": [], "zen": []} for s in seeds}
    t0 = time.perf_counter()
    for s in seeds:
        ev = ProxyEvaluator(space_name, task, seed=s, device="cpu")
        for key in keys:
            v = ev.evaluate(key, ["synflow", "zen"])
            for p in ("synflow", "zen"):
                ours[s][p].append(v[p])
    row: dict = {"space": space_name, "task": task, "seeds": list(seeds), "batch_size": ev.batch_size,
                 "seconds": time.perf_counter() - t0}
    for p in ("synflow", "zen"):
        rel = np.array([records[k][p]["score"] for k in keys], dtype=float)
        a, b = (np.array(ours[s][p], dtype=float) for s in seeds)
        ok = np.isfinite(rel) & (rel > -1e7) & np.isfinite(a) & np.isfinite(b)  # -1e8: the release's NaN sentinel
        rhos = [spearman(v[ok], rel[ok]) for v in (a, b)]
        row[p] = {"n": int(ok.sum()), "rho_release": rhos, "rho_seeds": spearman(a[ok], b[ok]),
                  "median_abs_diff": float(np.median(np.abs(a[ok] - rel[ok]))),
                  "max_abs_diff": float(np.max(np.abs(a[ok] - rel[ok])))}
    print(json.dumps(row), flush=True)
    return row


# ------------------------------------------------------------------------------------------------------ markdown
def markdown(store: dict, command: str) -> str:
    lines = [
        "### Search-space networks vs the release (params, FLOPs)",
        "",
        "`python benchmarks/check_spaces.py --spaces nb101,nb301,nb201` on CPU (1 thread), torch 2.13.0+cpu. An "
        "arch counts as exact when |params - release| <= 1e-6 M and FLOPs agree to a relative 1e-9. Build times "
        "were measured on a shared, heavily loaded 2-core machine (upper bounds).",
        "",
        "| space | archs | params exact | FLOPs exact (of n) | max abs params diff (M) | max rel FLOPs diff | "
        "median model build (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("nb101", "nb301", "nb201"):
        r = store.get(name)
        if r:
            lines.append(f"| {r['space']} | {r['n']} | {r['params_exact']} | {r['flops_exact']} of {r['n_flops']} | "
                         f"{r['max_abs_params_diff_M']:.2g} | {r['max_rel_flops_diff']:.2g} | "
                         f"{r['median_build_ms']:.1f} |")
    tnb = [r for name in TNB for r in store.get(name, {}).get("tasks", [])]
    if tnb:
        lines += [
            "",
            "#### TransNAS-Bench-101 (every released task; FLOPs of one sample: 256 x 256, jigsaw 9 x 64 x 64 tiles)",
            "",
            f"`{store.get('tnb_command', command)}`. Every arch of the mirror is built on the meta device (shapes, "
            "no weights); `ours` counts every leaf-module call (the flops proxy), `last call` each module once "
            "(torchstat/tensorwatch, the release's counter); the first archs of each task are also counted by "
            "`compute([\"params\", \"flops\"])` on real tensors (same numbers).",
            "",
            "| space | task | archs | params exact | FLOPs exact, ours | FLOPs exact, last call | max rel FLOPs "
            "diff, ours | real-tensor check |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in tnb:
            lines.append(f"| {r['space']} | {r['task']} | {r['n']} | {r['params_exact']} | {r['flops_exact']} | "
                         f"{r['flops_last_call_exact']} | {r['max_rel_flops_diff']:.3g} | "
                         f"{r['real_equal']} of {r['real_checked']} |")
        lines += [
            "",
            "Jigsaw runs the shared encoder once per tile (9 calls per module): the release's counter keeps the "
            "last call only, so its jigsaw `flops` are one tile's encoder plus the head; ours count all nine. Every "
            "other task has each module called once and the two rules agree.",
        ]
    prox = [store[name]["proxies"] for name in TNB if store.get(name, {}).get("proxies")]
    if prox:
        lines += [
            "",
            "#### TransNAS-Bench-101 data-free proxies vs the release (no images)",
            "",
            "Spearman rho between our values and the release's, for each of two seeds (weight init; zen's Gaussian "
            "inputs and re-init), and between the two seeds (run-to-run, the noise ceiling); median / max |ours - "
            "release| for the first seed.",
            "",
            "| space | task | proxy | n | rho(ours, release), seed 0 / 1 | rho(seed 0, seed 1) | median abs diff | "
            "max abs diff |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in prox:
            for p in ("synflow", "zen"):
                q = r[p]
                lines.append(f"| {r['space']} | {r['task']} | {p} | {q['n']} | {q['rho_release'][0]:.4f} / "
                             f"{q['rho_release'][1]:.4f} | {q['rho_seeds']:.4f} | {q['median_abs_diff']:.3f} | "
                             f"{q['max_abs_diff']:.3f} |")
        lines += ["", "Batch (zen's Gaussian inputs): " + ", ".join(
            f"{r['space']} {r['batch_size']} ({r['seconds']:.0f} s for both seeds)" for r in prox) + "."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path(__file__).resolve().parents[2] / "shared/benchmarks/nb-suite-zero")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--flops-limit", type=int, default=200)
    ap.add_argument("--real-limit", type=int, default=5, help="TNB: archs per task also counted on real tensors")
    ap.add_argument("--proxy-archs", type=int, default=50, help="TNB: class_scene archs for synflow / zen (0: skip)")
    ap.add_argument("--spaces", default="nb201,nb101,nb301,tnb101_micro,tnb101_macro")
    ap.add_argument("--out", type=Path, default=RESULTS / "spaces.md")
    ap.add_argument("--store", type=Path, default=RESULTS / "spaces.json", help="rows of every space checked so far")
    args = ap.parse_args()
    torch.set_num_threads(1)
    store = json.loads(args.store.read_text()) if args.store.exists() else {}
    command = "python benchmarks/check_spaces.py " + " ".join(sys.argv[1:])
    for name in args.spaces.split(","):
        t = time.perf_counter()
        if name in TNB:
            entry = {"tasks": check_tnb(name, args.mirror, args.limit, args.real_limit)}
            if args.proxy_archs:
                entry["proxies"] = check_proxies(name, args.mirror, "class_scene", args.proxy_archs, (0, 1))
            entry["wall_s"] = time.perf_counter() - t
            store[name] = entry
            store["tnb_command"] = command
        else:
            row = check(name, args.mirror, args.limit, args.flops_limit)
            row["wall_s"] = time.perf_counter() - t
            store[name] = row
            print(json.dumps(row), flush=True)
        args.store.write_text(json.dumps(store, indent=1) + "\n")
    write_section(args.out, "spaces", markdown(store, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
