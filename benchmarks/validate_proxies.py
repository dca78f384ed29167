"""Validate our 13 proxies against the NAS-Bench-Suite-Zero release on CIFAR-10 (NB201, NB101 or NB301).

For a seeded sample of the release's archs, compute every proxy with ``evoproxy extract`` (resumable: rerun to
continue) on real CIFAR-10 images, then report per proxy: Spearman rho between our values and the release's, and each
one's Spearman rho with the validation accuracy, side by side. Writes the table into benchmarks/results/extract.md.

    .venv/bin/python benchmarks/validate_proxies.py --n 200 --data-file ../shared/datasets/cifar10-subset/\
cifar10_subset_uint8.npz --mirror ../shared/benchmarks/nb-suite-zero [--space nb101]

The markdown goes into the ``validate`` section of ``--out`` (``validate-<space>`` for spaces other than nb201).
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
from evoproxy.extract import _frame, _read_journal, extract  # noqa: E402
from evoproxy.metrics import spearman  # noqa: E402
from evoproxy.release.ingest import SPACE_FILES, read_space  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# zero-cost-nas's own reproduction of the release (issue text): grasp ~0.0, plain ~0.4, jacob_cov ~0.0
EXPECTED_HARD = {"grasp", "plain"}


SPACE_TITLES = {"nb201": "NB201", "nb101": "NB101", "nb301": "NB301"}


def release_table(mirror: Path, task: str = "cifar10", space: str = "nb201") -> pd.DataFrame:
    tables = read_space(mirror / SPACE_FILES[space], space)
    return next(t for t in tables if t.task == task).df


def agreement(ours: pd.DataFrame, rel: pd.DataFrame, proxies: list[str]) -> pd.DataFrame:
    """Per proxy: n, rho(ours, release), rho(ours, acc), rho(release, acc), and |difference| of the latter two."""
    m = ours.merge(rel, on="arch", suffixes=("_ours", "_rel"))
    acc = m["val_accuracy"].to_numpy()
    rows = []
    for p in proxies:
        o, r = m[f"{p}_ours"].to_numpy(float), m[f"{p}_rel"].to_numpy(float)
        ok = np.isfinite(o) & np.isfinite(r)
        if ok.sum() < 3:  # the release lacks this proxy for the space (e.g. nwot, zen on nb101)
            rows.append({"proxy": p, "n": int(ok.sum()), "rho_ours_release": np.nan, "rho_ours_acc":
                         spearman(o[np.isfinite(o)], acc[np.isfinite(o)]), "rho_release_acc": np.nan})
            continue
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
        f"### Proxy validation against the NAS-Bench-Suite-Zero release ({SPACE_TITLES[meta['space']]} / CIFAR-10)",
        "",
        f"n = {meta['n']} archs (seeded sample, seed {meta['seed']}), batch {meta['batch_size']} of real CIFAR-10 "
        f"images ({meta['data']}), device {meta['device']}, torch {torch.__version__}, {meta['seconds']:.0f} s. "
        "Spearman rho; `rho(ours, acc)` vs `rho(release, acc)` compares each proxy's own correlation with the "
        "validation accuracy.",
        "",
        "| proxy | n | rho(ours, release) | rho(ours, acc) | rho(release, acc) | abs gap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    def fmt(v: float) -> str:
        return "–" if not np.isfinite(v) else f"{v:.3f}"

    for r in df.itertuples():
        lines.append(f"| {r.proxy} | {r.n} | {fmt(r.rho_ours_release)} | {fmt(r.rho_ours_acc)} | "
                     f"{fmt(r.rho_release_acc)} | {fmt(r.acc_rho_gap)} |")
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="nb201", choices=sorted(SPACE_TITLES), help="search space (CIFAR-10 task)")
    ap.add_argument("--n", type=int, default=200, help="number of release archs to recompute")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--proxies", default="all")
    ap.add_argument("--data-file", default=str(REPO.parent / "shared/datasets/cifar10-subset/cifar10_subset_uint8.npz"))
    ap.add_argument("--mirror", default=str(REPO.parent / "shared/benchmarks/nb-suite-zero"))
    ap.add_argument("--table", help="computed values, resumed when present (default "
                                     "results/validation/<space>__cifar10.parquet)")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/extract.md"))
    ap.add_argument("--report-only", action="store_true",
                    help="report on the archs finished so far (table + journal of a running or killed extraction)")
    args = ap.parse_args(argv)
    args.table = args.table or str(REPO / f"results/validation/{args.space}__cifar10.parquet")

    rel = release_table(Path(args.mirror), space=args.space)
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
        table = extract(args.space, str(archs_file), args.proxies, "cifar10", args.batch_size, args.seed,
                        args.device, args.data_file, args.table)
        seconds = time.perf_counter() - t0
        proxies = [p for p in PROXIES if p in table.meta["computed_proxies"]]
        ours, device = table.df, table.meta["device"]
    df = agreement(ours[ours["arch"].isin(sample["arch"])], rel, proxies)
    meta = {"space": args.space, "n": int(df["n"].max()), "seed": args.seed, "batch_size": args.batch_size,
            "data": Path(args.data_file).name if args.data_file else "official tarball",
            "device": device, "seconds": seconds,
            "command": "python benchmarks/validate_proxies.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    md = to_markdown(df, meta)
    print(md)
    write_section(args.out, "validate" if args.space == "nb201" else f"validate-{args.space}", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
