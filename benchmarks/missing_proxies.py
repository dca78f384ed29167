"""Three ways to score a problem that lacks proxies a formula reads, measured on held-out nb101 (no nwot, no zen).

    .venv/bin/python benchmarks/missing_proxies.py --data results/data --filled results/data_filled \
        --runs-dir /tmp/mr6 [--methods recommended,ensemble] [--blocks 0-9,10-19,0-19]

The runs are ``benchmarks/compare_methods.py``'s leave-one-space-out runs without nb101 (``--runs-dir``), so no
training problem lacked a proxy. On nb101's test split, each seed's proxy (the method's final rule on that run) and
the final proxy of each block of seeds are scored with the missing proxies:

- ``neutral``: the library's rule (:data:`evoproxy.sr.transforms.ABSENT`, the calibrated median);
- ``substitute``: the values of the present proxy that agrees most with the missing one (largest mean |Spearman| on
  the training problems' train splits, sign kept) — a prototype, not in the library;
- ``filled``: nwot and zen computed by extraction (``results/data_filled``, the ``fill_missing`` target).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_methods import _tables  # noqa: E402
from mdsection import write_section  # noqa: E402

from evoproxy import PROXIES  # noqa: E402
from evoproxy.metrics import kendall  # noqa: E402
from evoproxy.problems import ProblemTable, load_table, split  # noqa: E402
from evoproxy.protocols import trainsets  # noqa: E402
from evoproxy.report.tables import to_markdown  # noqa: E402
from evoproxy.sr.descriptor import descriptor_of, pair_key  # noqa: E402
from evoproxy.sr.formula import scorer_from_run  # noqa: E402
from evoproxy.sr.select import final_proxy, one_run_proxy  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET = "nb101/cifar10"


def substituted(test: ProblemTable, train_splits: list, missing: list[str]) -> ProblemTable:
    """``test`` with each missing proxy replaced by the present proxy most in agreement with it on ``train_splits``."""
    descriptors = [descriptor_of(t) for t in train_splits]
    df = test.df.copy()
    for m in missing:
        agree = {}
        for q in [p for p in PROXIES if p in test.proxies]:
            a, b = sorted((m, q), key=PROXIES.index)
            agree[q] = np.nanmean([d.get(pair_key(a, b), np.nan) for d in descriptors])
        best = max((q for q in agree if np.isfinite(agree[q])), key=lambda q: abs(agree[q]))
        df[m] = np.sign(agree[best]) * df[best].to_numpy(dtype=float)
    return ProblemTable(test.space, test.task, df, dict(test.meta))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO / "results/data"))
    ap.add_argument("--filled", default=str(REPO / "results/data_filled"))
    ap.add_argument("--runs-dir", required=True)
    ap.add_argument("--methods", default="gated+min_max,ensemble")
    ap.add_argument("--blocks", default="0-9,10-19,0-19", help="seed blocks whose final proxies are scored")
    args = ap.parse_args()
    tables = _tables(args.data)
    train = trainsets("loso", list(tables))["no_nb101"]
    fitted = [tables[p] for p in train]
    test = split(tables[TARGET], 1000, 0, 0.5)[1]
    missing = [p for p in PROXIES if p not in test.proxies]
    variants = {"neutral": test, "substitute": substituted(test, [split(t, 1000, 0, 0.5)[0] for t in fitted], missing)}
    filled = Path(args.filled) / "nb101__cifar10.parquet"
    if filled.exists():
        f = split(load_table(filled), 1000, 0, 0.5)[1]
        if not np.array_equal(f.target, test.target):
            raise SystemExit(f"{filled}: its test split is not nb101's (different rows)")
        variants["filled"] = f
    blocks = [tuple(int(x) for x in b.split("-")) for b in args.blocks.split(",")]
    rows = []
    for method in args.methods.split(","):
        last = max(hi for _, hi in blocks)
        paths = [Path(args.runs_dir) / method / "loso" / "no_nb101" / f"run_{s}.json" for s in range(last + 1)]
        runs = [(str(p), json.loads(p.read_text())) for p in paths]
        seeds = [one_run_proxy(p, r, fitted) for p, r in runs]
        for name, t in variants.items():
            per_seed = [kendall(s.evaluate_table(t), t.target) for s in seeds]
            row = {"method": method, "rule": name, "seeds": len(per_seed), "seed median": np.median(per_seed),
                   "worst seed": min(per_seed)}
            for lo, hi in blocks:
                final = scorer_from_run(final_proxy(runs[lo:hi + 1], fitted, record_scores=False))
                row[f"final, seeds {lo}-{hi}"] = kendall(final.evaluate_table(t), t.target)
            rows.append(row)
    singles = {q: kendall(v.values(q), v.target) for name, v in variants.items() if name == "filled"
               for q in missing}
    singles["flops"] = kendall(test.values("flops"), test.target)
    md = to_markdown(pd.DataFrame(rows), bold=False, index=False)
    body = (f"`{' '.join(sys.argv)}`; nb101 test split ({test.n} archs), missing {', '.join(missing)}; single proxies "
            + ", ".join(f"{q} {v:.3f}" for q, v in singles.items()) + "\n\n" + md)
    write_section(REPO / "BENCHMARKS.md", "missing-proxies", "### Scoring a problem that lacks proxies\n\n" + body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
