"""Compare GP methods on the generalisation protocols (leave-one-space-out, leave-one-problem-out) at the paper budget.

    .venv/bin/python benchmarks/compare_methods.py --data results/data --seeds 5 [--first-seed 0] [--methods ...]
        [--runs-dir benchmarks/results/methods_runs] [--jobs 2] [--out benchmarks/results/methods.md]

Each method is a set of ``sr`` keys (below); every (protocol, held-out set, seed) is one ``evoproxy.sr.engine.evolve``
run on the other problems' train splits, cached as JSON under ``--runs-dir``. Per method and protocol the table gives,
over the held-out problems' test splits: the mean Kendall tau of each seed's run (the method's final rule on that
run alone; median and worst seed), the final proxy built by the method's own ``final`` rule over the seeds
(``evoproxy select``), and the label-free baselines chosen on the training problems (best single proxy and top-3 rank-mean among the proxies the held-out problem has,
rank-mean of all proxies, nwot over the problems that have it), the final proxy's wins over the best single proxy
(higher tau) and losses (its 95% bootstrap interval entirely below the best single proxy's, the report's rule), and a
labelled reference (†: gradient boosting on the
calibrated proxies fitted with the training problems' accuracies) that bounds what any function of the calibrated
proxies learnt on those problems carries to the held-out one. This is how the recommended method was chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdsection import write_section  # noqa: E402

from evoproxy import PROXIES  # noqa: E402
from evoproxy.evaluate import bootstrap_kendall, interval_below, mean_rank, rank_proxies_on_training  # noqa: E402
from evoproxy.fileio import write_json_atomic  # noqa: E402
from evoproxy.methods import PAPER_FUNCTIONS  # noqa: E402
from evoproxy.metrics import kendall  # noqa: E402
from evoproxy.problems import list_problems, load_problems, split  # noqa: E402
from evoproxy.protocols import evaluation_problems, trainsets  # noqa: E402
from evoproxy.report.tables import to_markdown  # noqa: E402
from evoproxy.sr.formula import scorer_from_run  # noqa: E402
from evoproxy.sr.select import final_proxy, one_run_proxy  # noqa: E402
from evoproxy.sr.transforms import ecdf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUDGET = {"population": 100, "generations": 50}
SPEARMAN_SPECIALISTS = {"specialist_metric": "same"}
"""The recommended method of 2026-12-07 before top-weighted specialists (``spearman_specialists``): the schema
defaults but with the specialists picked by the fitness's Spearman among the one search's trees."""
GATED = {**SPEARMAN_SPECIALISTS, "parsimony": 0.002, "distinct_offspring": 0}
"""The recommended method from 2026-12-05 to 12-07 (``gated+min_max``): ``spearman_specialists`` with a lighter
parsimony and offspring that may repeat trees."""
ENSEMBLE = {**GATED, "functions": list(PAPER_FUNCTIONS), "final": "ensemble"}
"""The recommended method before min/max and gating: ecdf + space_mean + Spearman + parsimony 0.002, the paper's
function set, the calibrated mean of the top runs."""
HELD_OUT = {"terminals": "held_out"}
"""A benchmark variant, not an ``sr`` value: the run's terminals are the proxies every held-out problem has (no nwot
or zen when nb101 is held out), set by :func:`_run`."""
METHODS: dict[str, dict] = {
    "paper": {"preset": "paper"},
    "ecdf": {"preset": "paper", "transform": "ecdf", "final": "ensemble"},
    "ecdf+space_mean": {"preset": "paper", "transform": "ecdf", "aggregate": "space_mean", "final": "ensemble"},
    "ensemble": ENSEMBLE,
    "ensemble+kendall": {**ENSEMBLE, "metric": "kendall"},  # the paper's fitness correlation
    "ensemble+lexicase": {**ENSEMBLE, "selection": "lexicase"},
    "ensemble+validation": {**ENSEMBLE, "validation": "loso", "rank_runs_by": "validation"},
    "ensemble+parsimony_0.001": {**ENSEMBLE, "parsimony": 0.001},
    "ensemble+parsimony_0.005": {**ENSEMBLE, "parsimony": 0.005},
    "ensemble+mean_minus_std": {**ENSEMBLE, "aggregate": "mean_minus_std"},
    "ecdf+mean+parsimony": {**ENSEMBLE, "aggregate": "mean"},
    "raw+space_mean+parsimony": {**ENSEMBLE, "transform": "none"},
    "signed_log+space_mean+parsimony": {**ENSEMBLE, "transform": "signed_log"},
    "ensemble+gated": {**ENSEMBLE, "final": "gated"},
    "gated+min_max": GATED,
    "gated+min_max+masked_2": {**GATED, "masked_proxies": 2},
    "gated+min_max+distinct_20": {**GATED, "distinct_offspring": 20},
    "gated+min_max+distinct_20+masked_2": {**GATED, "distinct_offspring": 20, "masked_proxies": 2},
    "gated+min_max+held_out_terminals": {**GATED, **HELD_OUT},
    "gated+min_max+distinct_20+held_out_terminals": {**GATED, "distinct_offspring": 20, **HELD_OUT},
    "gated+min_max+parsimony_0.004+held_out_terminals": {**GATED, "parsimony": 0.004, **HELD_OUT},
    "gated+min_max+parsimony_0.005+held_out_terminals": {**GATED, "parsimony": 0.005, **HELD_OUT},
    "spearman_specialists": SPEARMAN_SPECIALISTS,  # gated+min_max + parsimony 0.005 + distinct_offspring 20
    "spearman_specialists+held_out_terminals": {**SPEARMAN_SPECIALISTS, **HELD_OUT},
    "spearman_specialists+topdown": {**SPEARMAN_SPECIALISTS, "metric": "topdown"},
    "spearman_specialists+spearman_topdown": {**SPEARMAN_SPECIALISTS, "metric": "spearman+topdown"},
    "recommended": {},  # the schema defaults: spearman_specialists + top-down specialists from a second search
}
RESELECTED: dict[str, tuple[str, dict]] = {
    "gated+min_max/final=ensemble": ("gated+min_max", {"final": "ensemble"}),  # = ensemble + min/max
    "gated+min_max/gate_general_weight=1": ("gated+min_max", {"gate_general_weight": 1.0}),
    "gated+min_max/gate_bandwidth=.1": ("gated+min_max", {"gate_bandwidth": 0.1}),
    "gated+min_max/gate_bandwidth=.25": ("gated+min_max", {"gate_bandwidth": 0.25}),
    "recommended/gate_general_weight=.1": ("recommended", {"gate_general_weight": 0.1}),
}
"""Methods that differ only in how ``evoproxy select`` builds the final proxy: another method's runs, with these
``sr`` keys changed in their config before selection (no GP run of their own)."""
PROTOCOL_KINDS = ("loso", "lopo")
_TABLES: dict = {}


def _tables(data: str) -> dict:
    if not _TABLES:
        _TABLES.update({t.id: t for t in load_problems(data, "all")})
    return _TABLES


def _run(job: tuple[str, str, str, str, list[str], int, str]) -> str:
    from evoproxy.sr.engine import evolve

    data, method, proto, name, train, seed, runs_dir = job
    path = Path(runs_dir) / method / proto / name / f"run_{seed}.json"
    if not path.exists():
        tables = _tables(data)
        cfg = {**METHODS[method], **BUDGET}
        if cfg.get("terminals") == "held_out":
            held = evaluation_problems(proto, train, list(tables))
            have = [p for p in PROXIES if all(p in tables[h].proxies for h in held)]
            cfg["terminals"] = "all" if set(have) >= {p for t in train for p in tables[t].proxies} else have
        run = evolve([tables[p] for p in train], cfg, seed=seed)
        run.pop("history", None)
        write_json_atomic(path, run)
    return str(path)


def _calibrated(table) -> np.ndarray:
    """Every proxy of PROXIES through the ECDF of the table's own rows (absent: the neutral value; NaN: 0)."""
    cols = [ecdf(table.values(p), table.values(p)) for p in PROXIES]
    return np.nan_to_num(np.column_stack(cols), nan=0.0)


def pooled_supervised(train_parts: list, test) -> np.ndarray:
    """Reference, not a method: a gradient-boosted model of the calibrated proxies fitted *with the labels* of the
    training problems' train splits (every search space weighted the same, as in space_mean), scored on ``test``.
    It tells whether an unseen problem is out of reach of the proxies themselves or only of the formula."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    per_space: dict[str, int] = {}
    for t in train_parts:
        per_space[t.space] = per_space.get(t.space, 0) + 1
    X = np.vstack([_calibrated(t) for t in train_parts])
    y = np.concatenate([ecdf(t.target, t.target) for t in train_parts])
    w = np.concatenate([np.full(t.n, 1.0 / (t.n * per_space[t.space])) for t in train_parts])
    model = HistGradientBoostingRegressor(max_iter=200, max_depth=3, random_state=0)
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(X, y, sample_weight=w)
        return model.predict(_calibrated(test))


def evaluate(data: str, methods: list[str], seeds: range, runs_dir: str) -> pd.DataFrame:
    tables = _tables(data)
    parts = {p: split(t, 1000, 0, 0.5) for p, t in tables.items()}
    problems = list(tables)
    rows = []
    for proto in PROTOCOL_KINDS:
        for name, train in trainsets(proto, problems).items():
            held = evaluation_problems(proto, train, problems)
            ranking = list(rank_proxies_on_training([parts[p][0] for p in train]).index)
            pooled = {pid: kendall(pooled_supervised([parts[p][0] for p in train], parts[pid][1]),
                                   parts[pid][1].target) for pid in held}
            for method in methods:
                base, changed = RESELECTED.get(method, (method, {}))
                paths = [Path(runs_dir) / base / proto / name / f"run_{s}.json" for s in seeds]
                runs = [(str(p), json.loads(p.read_text())) for p in paths]
                for _, r in runs:
                    r["config"].update(changed)
                fitted = [tables[p] for p in train]
                final = scorer_from_run(final_proxy(runs, fitted, record_scores=False))
                scorers = [one_run_proxy(p, r, fitted) for p, r in runs]  # each seed on its own
                for pid in held:
                    te = parts[pid][1]
                    y = te.target
                    have = [q for q in ranking if q in set(tables[pid].proxies)]
                    x = final.evaluate_table(te)
                    final_high = bootstrap_kendall(x, y)[1]
                    best_low = bootstrap_kendall(te.values(have[0]), y)[0]  # same resamples: paired intervals
                    rows.append({
                        "protocol": proto, "method": method, "problem": pid,
                        "seeds": [kendall(s.evaluate_table(te), y) for s in scorers],
                        "final": kendall(x, y),
                        "best_single": kendall(te.values(have[0]), y),
                        "loss": bool(interval_below(final_high, best_low)),
                        "rank_mean_top3": kendall(mean_rank(te, have[:3]), y),
                        "rank_mean_all": kendall(mean_rank(te, PROXIES), y),
                        "nwot": kendall(te.values("nwot"), y) if "nwot" in tables[pid].proxies else np.nan,
                        "pooled_supervised": pooled[pid],
                    })
    return pd.DataFrame(rows)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (proto, method), g in df.groupby(["protocol", "method"], sort=False):
        per_seed = np.nanmean(np.array(g["seeds"].tolist()), axis=0)
        has_nwot = g["nwot"].notna()
        out.append({
            "protocol": proto, "method": method, "problems": len(g), "seeds": len(per_seed),
            "seed median": np.median(per_seed), "worst seed": per_seed.min(), "final": g["final"].mean(),
            "final (nwot's problems)": g.loc[has_nwot, "final"].mean(),
            "wins vs best single": int((g["final"] > g["best_single"]).sum()),
            "losses": int(g["loss"].sum()),
            "best single": g["best_single"].mean(), "rank-mean top-3": g["rank_mean_top3"].mean(),
            "rank-mean all": g["rank_mean_all"].mean(), "nwot": g.loc[has_nwot, "nwot"].mean(),
            "pooled supervised†": g["pooled_supervised"].mean(),
        })
    return pd.DataFrame(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO / "results/data"))
    p.add_argument("--methods", default=",".join([*METHODS, *RESELECTED]))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds are first-seed .. first-seed+seeds-1 (a later block replicates the table on fresh draws)")
    p.add_argument("--runs-dir", default=str(REPO / "benchmarks/results/methods_runs"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", default=str(REPO / "benchmarks/results/methods.md"))
    p.add_argument("--section", default="methods", help="the BENCHMARKS.md section the table replaces")
    p.add_argument("--per-problem", default=str(REPO / "benchmarks/results/methods_per_problem.csv"),
                   help="CSV of every (protocol, method, held-out problem): each seed's and the final proxy's tau")
    p.add_argument("--title", default="GP methods on the generalisation protocols")
    args = p.parse_args()
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS and m not in RESELECTED]
    if unknown:
        p.error(f"unknown methods {unknown}; known: {', '.join([*METHODS, *RESELECTED])}")
    problems = list_problems(args.data)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    evolved = list(dict.fromkeys(RESELECTED.get(m, (m, {}))[0] for m in methods))
    jobs = [(args.data, m, proto, name, train, s, args.runs_dir) for m in evolved for proto in PROTOCOL_KINDS
            for name, train in trainsets(proto, problems).items() for s in seeds]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as ex:
        for i, _ in enumerate(ex.map(_run, jobs, chunksize=4)):
            if i % 50 == 0:
                print(f"{i}/{len(jobs)} runs, {time.perf_counter() - t0:.0f} s", flush=True)
    df = evaluate(args.data, methods, seeds, args.runs_dir)
    per_problem = df.assign(seeds=[json.dumps([round(float(x), 4) for x in v]) for v in df["seeds"]])
    per_problem.round(4).to_csv(args.per_problem, index=False)
    table = summary(df)
    md = to_markdown(table, bold=False, index=False)
    body = (f"`{' '.join(sys.argv)}` ({len(jobs)} runs at population {BUDGET['population']} x "
            f"{BUDGET['generations']} generations; mean Kendall tau over the held-out problems' test splits)\n\n" + md)
    Path(args.out).write_text(body + "\n")
    write_section(REPO / "BENCHMARKS.md", args.section, f"### {args.title}\n\n" + body)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
