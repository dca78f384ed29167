"""Generalisation tables and figures: how each method's proxy ranks problems it never saw, over seeds.

Built only from evaluation Parquets of the generalisation protocols (``loso``, ``lopo``, ``loto``): per held-out
problem the final proxy of each method (``evolved``), the spread of its independent runs (``run_<seed>`` rows, each
run alone through the method's final rule: median,
worst seed, mean ± std) and the baselines on the same test split (best single proxy chosen on the training problems,
rank-mean of all proxies and of the top 3 chosen on training, nwot, and the supervised reference †).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evoproxy.evaluate import interval_below
from evoproxy.report.tables import SUPERVISED

BASELINES = ("best_single", "ensemble_all", "ensemble_top3", "nwot", SUPERVISED)
BASELINE_TITLES = {"best_single": "best single (train)", "ensemble_all": "rank-mean all",
                   "ensemble_top3": "rank-mean top-3 (train)", "nwot": "nwot", SUPERVISED: SUPERVISED}


def _baseline(row: pd.Series) -> str | None:
    if row["kind"] == "best_single":
        return "best_single"
    if row["kind"] == "supervised":
        return SUPERVISED
    if row["method"] in ("ensemble_all", "ensemble_top3", "nwot"):
        return str(row["method"])
    return None


def per_problem(ev: pd.DataFrame, metric: str = "kendall", order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (protocol, held-out problem, method): final, runs median / worst / mean / std / n, baselines."""
    if "gp_method" not in ev.columns:
        ev = ev.assign(gp_method="recommended")
    rows = []
    for (proto, pid, m), g in ev.groupby(["protocol", "problem", "gp_method"], sort=False):
        runs = g.loc[g["kind"] == "run", metric].to_numpy(dtype=float)
        runs = runs[np.isfinite(runs)]
        final = g.loc[g["kind"] == "evolved", metric]
        row = {"protocol": proto, "problem": pid, "method": m,
               "final": float(final.iloc[0]) if len(final) else np.nan,
               "final_low": float(g.loc[g["kind"] == "evolved", "ci_low"].iloc[0]) if len(final) else np.nan,
               "runs": len(runs), "median": np.median(runs) if len(runs) else np.nan,
               "worst": runs.min() if len(runs) else np.nan, "mean": runs.mean() if len(runs) else np.nan,
               "std": runs.std(ddof=0) if len(runs) else np.nan}
        for _, b in g.iterrows():
            name = _baseline(b)
            if name:
                row[name] = float(b[metric])
                if name == "best_single":
                    row["best_single_proxy"] = str(b["method"]).partition("(")[2].rstrip(")")
                    row["best_single_high"] = float(b["ci_high"])
                    row["best_single_low"] = float(b["ci_low"])
        row["final_high"] = float(g.loc[g["kind"] == "evolved", "ci_high"].iloc[0]) if len(final) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if order and len(out):
        rank = {p: i for i, p in enumerate(order)}
        out = out.sort_values(["protocol", "problem"], key=lambda s: s.map(rank) if s.name == "problem" else s,
                              kind="stable")
    return out.reset_index(drop=True)


def table(pp: pd.DataFrame) -> pd.DataFrame:
    """Rows (protocol, held-out problem); per method a 'final' column and a 'runs median (worst)' column; then the
    baselines. Cells are strings for Markdown/LaTeX; see :func:`numeric_table` for the CSV."""
    if pp.empty:
        return pd.DataFrame()
    methods = list(dict.fromkeys(pp["method"]))
    out = pd.DataFrame(index=pd.MultiIndex.from_frame(pp[["protocol", "problem"]].drop_duplicates()))
    for m in methods:
        sub = pp[pp["method"] == m].set_index(["protocol", "problem"])
        out[f"{m}: final"] = sub["final"].map(_f)
        out[f"{m}: runs median (worst)"] = [f"{_f(a)} ({_f(b)})" for a, b in zip(sub["median"], sub["worst"],
                                                                                  strict=True)]
    first = pp.drop_duplicates(["protocol", "problem"]).set_index(["protocol", "problem"])
    for b in BASELINES:
        if b in first:
            out[BASELINE_TITLES[b]] = first[b].map(_f)
    if "best_single_proxy" in first:
        out["best single proxy"] = first["best_single_proxy"]
    out = out.reset_index(level="protocol")
    out.index.name = "held-out problem"
    return out


def numeric_table(pp: pd.DataFrame) -> pd.DataFrame:
    """The same as :func:`table`, one numeric column per value (final, median, worst, mean, std per method)."""
    if pp.empty:
        return pd.DataFrame()
    wide = pp.pivot_table(index=["protocol", "problem"], columns="method",
                          values=["final", "median", "worst", "mean", "std"], sort=False)
    wide.columns = [f"{m}_{v}" for v, m in wide.columns]
    wide.index.names = ["protocol", "held-out problem"]
    first = pp.drop_duplicates(["protocol", "problem"]).set_index(["protocol", "problem"])
    for b in BASELINES:
        if b in first:
            wide[b] = first[b]
    return wide


def summary(pp: pd.DataFrame, ev: pd.DataFrame, metric: str = "kendall") -> pd.DataFrame:
    """Per protocol and method: mean over held-out problems of the final proxy and of each seed's runs (median, worst
    seed, mean ± std over seeds, n), the baselines' means, and the final proxy's wins over the best single proxy
    (higher τ) and losses (its 95% interval entirely below the baseline's)."""
    rows = []
    if "gp_method" not in ev.columns:
        ev = ev.assign(gp_method="recommended")
    for (proto, m), g in pp.groupby(["protocol", "method"], sort=False):
        e = ev[(ev["protocol"] == proto) & (ev["gp_method"] == m) & (ev["kind"] == "run")]
        per_seed = e.groupby("method")[metric].mean() if len(e) else pd.Series(dtype=float)
        row = {"protocol": proto, "method": m, "problems": len(g), "seeds": len(per_seed),
               "final": g["final"].mean(),
               "seeds_median": per_seed.median() if len(per_seed) else np.nan,
               "seeds_worst": per_seed.min() if len(per_seed) else np.nan,
               "seeds_mean": per_seed.mean() if len(per_seed) else np.nan,
               "seeds_std": per_seed.std(ddof=0) if len(per_seed) else np.nan}
        for b in BASELINES:
            if b in g:
                row[b] = g[b].mean()
        if "best_single" in g:
            row["wins_vs_best_single"] = int((g["final"] > g["best_single"]).sum())
            row["losses_vs_best_single"] = int(interval_below(g["final_high"], g["best_single_low"]).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _f(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:.3f}"


def figure(pp: pd.DataFrame, ev: pd.DataFrame, protocol: str, path: str | Path, metric: str = "kendall") -> Path:
    """Per held-out problem: each method's runs (dots) and final proxy (bar), next to the baselines (markers)."""
    from evoproxy.report import figures

    plt = figures.plt
    sub = pp[pp["protocol"] == protocol]
    if sub.empty:
        return figures._placeholder(path, f"{protocol}: generalisation", "no evaluations")
    problems = list(dict.fromkeys(sub["problem"]))
    methods = list(dict.fromkeys(sub["method"]))
    if "gp_method" not in ev.columns:
        ev = ev.assign(gp_method="recommended")
    x = np.arange(len(problems))
    width = 0.8 / max(1, len(methods))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(problems) + 2), 4.0))
    colors = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    for k, m in enumerate(methods):
        off = (k - (len(methods) - 1) / 2) * width
        s = sub[sub["method"] == m].set_index("problem").reindex(problems)
        ax.bar(x + off, s["final"], width * 0.9, color=colors[k % 4], alpha=0.35, label=f"{m}: final proxy")
        runs = ev[(ev["protocol"] == protocol) & (ev["gp_method"] == m) & (ev["kind"] == "run")]
        for i, p in enumerate(problems):
            v = runs.loc[runs["problem"] == p, metric].to_numpy(dtype=float)
            ax.scatter(np.full(len(v), x[i] + off), v, s=8, color=colors[k % 4], zorder=3,
                       label=f"{m}: runs (seeds)" if i == 0 else None)
    first = sub.drop_duplicates("problem").set_index("problem").reindex(problems)
    for b, marker in (("best_single", "_"), ("ensemble_top3", "x"), ("nwot", "^")):
        if b in first:
            ax.scatter(x, first[b], marker=marker, s=60, color="black", zorder=4, label=BASELINE_TITLES[b])
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xticks(x, problems, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"{'Kendall τ' if metric == 'kendall' else 'Spearman ρ'} on the held-out test split")
    ax.set_title(f"{protocol}: problems never seen in training")
    ax.legend(fontsize=6, ncol=2)
    return figures._save(fig, path)
