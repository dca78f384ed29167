"""Validate our 13 proxies against the NAS-Bench-Suite-Zero release on NB201/CIFAR-10.

For a seeded sample of the release's archs, compute every proxy with ``evoproxy extract`` (resumable: rerun to
continue) on real CIFAR-10 images, then report per proxy: Spearman rho between our values and the release's, and each
one's Spearman rho with the validation accuracy, side by side. Writes the table into benchmarks/results/extract.md.

    .venv/bin/python benchmarks/validate_proxies.py --n 200 --data-file ../shared/datasets/cifar10-subset/\
cifar10_subset_uint8.npz --mirror ../shared/benchmarks/nb-suite-zero
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdsection import write_section  # noqa: E402

from evoproxy import PROXIES  # noqa: E402
from evoproxy.benchmarks.nbsz import read_space  # noqa: E402
from evoproxy.extract import _frame, _read_journal, extract  # noqa: E402
from evoproxy.metrics import spearman  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# zero-cost-nas's own reproduction of the release (issue text): grasp ~0.0, plain ~0.4, jacob_cov ~0.0
EXPECTED_HARD = {"grasp", "plain"}


def release_table(mirror: Path, task: str = "cifar10") -> pd.DataFrame:
    tables = read_space(mirror / "zc_nasbench201.json", "nb201")
    return next(t for t in tables if t.task == task).df


def agreement(ours: pd.DataFrame, rel: pd.DataFrame, proxies: list[str]) -> pd.DataFrame:
    """Per proxy: n, rho(ours, release), rho(ours, acc), rho(release, acc), and |difference| of the latter two."""
    m = ours.merge(rel, on="arch", suffixes=("_ours", "_rel"))
    acc = m["val_accuracy"].to_numpy()
    rows = []
    for p in proxies:
        o, r = m[f"{p}_ours"].to_numpy(float), m[f"{p}_rel"].to_numpy(float)
        ok = np.isfinite(o) & np.isfinite(r)
        rows.append({
            "proxy": p,
            "n": int(ok.sum()),
            "rho_ours_release": spearman(o[ok], r[ok]),
            "rho_ours_acc": spearman(o[ok], acc[ok]),
            "rho_release_acc": spearman(r[ok], acc[ok]),
        })
    df = pd.DataFrame(rows)
    df["acc_rho_gap"] = (df["rho_ours_acc"] - df["rho_release_acc"]).abs()
    return df


def to_markdown(df: pd.DataFrame, meta: dict) -> str:
    lines = [
        "### Proxy validation against the NAS-Bench-Suite-Zero release (NB201 / CIFAR-10)",
        "",
        f"n = {meta['n']} archs (seeded sample, seed {meta['seed']}), batch {meta['batch_size']} of real CIFAR-10 "
        f"images ({meta['data']}), device {meta['device']}, torch {torch.__version__}, {meta['seconds']:.0f} s. "
        "Spearman rho; `rho(ours, acc)` vs `rho(release, acc)` compares each proxy's own correlation with the "
        "validation accuracy.",
        "",
        "| proxy | n | rho(ours, release) | rho(ours, acc) | rho(release, acc) | abs gap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in df.itertuples():
        lines.append(f"| {r.proxy} | {r.n} | {r.rho_ours_release:.3f} | {r.rho_ours_acc:.3f} | "
                     f"{r.rho_release_acc:.3f} | {r.acc_rho_gap:.3f} |")
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="number of release archs to recompute")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--proxies", default="all")
    ap.add_argument("--data-file", default=str(REPO.parent / "shared/datasets/cifar10-subset/cifar10_subset_uint8.npz"))
    ap.add_argument("--mirror", default=str(REPO.parent / "shared/benchmarks/nb-suite-zero"))
    ap.add_argument("--table", default=str(REPO / "results/validation/nb201__cifar10.parquet"),
                    help="computed values (resumed when present)")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/extract.md"))
    ap.add_argument("--report-only", action="store_true",
                    help="report on the archs finished so far (table + journal of a running or killed extraction)")
    args = ap.parse_args(argv)

    rel = release_table(Path(args.mirror))
    sample = rel.sample(min(args.n, len(rel)), random_state=args.seed)
    archs_file = Path(args.table).with_suffix(".archs.txt")
    archs_file.parent.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        archs_file.write_text("\n".join(sample["arch"]) + "\n")
    t0 = time.perf_counter()
    if args.report_only:
        rows = _read_journal(Path(args.table).with_name(Path(args.table).name + ".journal.jsonl"))
        proxies = [p for p in PROXIES if rows and p in rows[0]["values"]]
        ours, device = _frame(rows, proxies), "see table metadata"
        seconds = float(ours[[f"time_{p}" for p in proxies]].to_numpy().sum()) if proxies else 0.0
    else:
        table = extract("nb201", str(archs_file), args.proxies, "cifar10", args.batch_size, args.seed,
                        args.device, args.data_file, args.table)
        seconds = time.perf_counter() - t0
        proxies = [p for p in PROXIES if p in table.meta["computed_proxies"]]
        ours, device = table.df, table.meta["device"]
    df = agreement(ours[ours["arch"].isin(sample["arch"])], rel, proxies)
    meta = {"n": int(df["n"].max()), "seed": args.seed, "batch_size": args.batch_size,
            "data": Path(args.data_file).name if args.data_file else "official tarball",
            "device": device, "seconds": seconds,
            "command": "python benchmarks/validate_proxies.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    md = to_markdown(df, meta)
    print(md)
    write_section(args.out, "validate", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
