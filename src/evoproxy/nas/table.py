"""The NAS results table and figure: per (dataset, objective) over seeds, next to the benchmark optimum.

Reads only result files written by ``evoproxy search``; it never recomputes a search.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from evoproxy.fileio import atomic_path, write_text_atomic
from evoproxy.nas.results import load_result

OBJECTIVE_ORDER = ("evolved", "evolved_paper", "nwot", "synflow", "jacov", "random")
DATASET_ORDER = ("cifar10", "cifar100", "ImageNet16-120")

ANCHOR_NOTE = (
    "Accuracies are NATS-Bench (NAS-Bench-201) 200-epoch accuracies averaged over training seeds, looked up after the "
    "search (ground truth never guides it): cifar10 = **validation** split (`cifar10_valid_acc_mean`), cifar100 and "
    "ImageNet16-120 = **valtest** (validation and test pooled). Published anchors report *test* accuracy (NASWOT "
    "README: 91.53 / 66.63 / 38.33; NB201 optimum 94.37 / 73.51 / 47.31 on cifar10 / cifar100 / ImageNet16-120) and "
    "are not comparable with these columns. `top %` = 100 x rank / cells (rank 1 = best of all cells); `random` = a "
    "uniformly random valid (connected) cell; `skipped` = proposals not in the lookup table (lookup mode).")


def collect(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """One row per result file."""
    rows = []
    for p in paths:
        r = load_result(p)
        t = r.get("truth") or {}
        rows.append({
            "file": str(p), "space": r["space"], "dataset": r["dataset"], "mode": r.get("mode"),
            "objective": r["objective"].get("name", r["objective"].get("spec")), "algorithm": r.get("algorithm"),
            "seed": r.get("seed"), "status": r["status"], "arch": r["best"].get("arch"), "cell": r["best"].get("cell"),
            "accuracy": t.get("accuracy"), "metric": t.get("metric"), "split": t.get("split"),
            "rank": t.get("rank"), "top_percent": t.get("top_percent"), "percentile": t.get("percentile"),
            "optimum": t.get("optimum"), "n_cells": t.get("n_cells"),
            "wall_seconds": r.get("wall_seconds"), "objective_seconds": r.get("objective_seconds"),
            "overhead_seconds": r.get("overhead_seconds"), "evaluations": r.get("evaluations"),
            "skipped": r.get("skipped"),
        })
    if not rows:
        raise ValueError("nas table: no result files given")
    df = pd.DataFrame(rows)
    for col in ("accuracy", "rank", "top_percent", "percentile", "optimum", "wall_seconds", "objective_seconds",
                "overhead_seconds", "evaluations", "skipped"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def _order(values: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    values = list(dict.fromkeys(values))
    return [v for v in preferred if v in values] + sorted(v for v in values if v not in preferred)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean/std over seeds per (dataset, objective), plus one ``optimum`` row per dataset."""
    out = []
    for ds in _order(df["dataset"], DATASET_ORDER):
        d = df[df["dataset"] == ds]
        for obj in _order(d["objective"], OBJECTIVE_ORDER):
            g = d[d["objective"] == obj]
            acc = g["accuracy"].dropna()
            out.append({
                "dataset": ds, "metric": g["metric"].dropna().iloc[0] if g["metric"].notna().any() else None,
                "split": g["split"].dropna().iloc[0] if g["split"].notna().any() else None,
                "objective": obj, "mode": ",".join(sorted(set(g["mode"].dropna()))),
                "algorithm": ",".join(sorted(set(g["algorithm"].dropna()))), "seeds": len(g),
                "interrupted": int((g["status"] == "interrupted").sum()),
                "acc_mean": acc.mean(), "acc_std": acc.std(ddof=1) if len(acc) > 1 else np.nan,
                "acc_best": acc.max(), "top_percent_mean": g["top_percent"].mean(),
                "rank_median": g["rank"].median(), "percentile_mean": g["percentile"].mean(),
                "in_top1_percent": int((g["top_percent"] <= 1.0).sum()),
                "time_mean": g["wall_seconds"].mean(),
                "time_std": g["wall_seconds"].std(ddof=1) if len(g) > 1 else np.nan,
                "objective_seconds_mean": g["objective_seconds"].mean(), "evals_mean": g["evaluations"].mean(),
                "skipped_mean": g["skipped"].mean(), "optimum": g["optimum"].max(),
                "n_cells": g["n_cells"].max(),
            })
    return pd.DataFrame(out)


def _pm(m: float, s: float, fmt: str = "{:.2f}") -> str:
    if not np.isfinite(m):
        return "n/a"
    return fmt.format(m) + ("" if not np.isfinite(s) else " ± " + fmt.format(s))


def _rows(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    head = ["dataset (accuracy split)", "objective", "seeds", "accuracy %", "top %", "percentile", "in top 1%",
            "search s", "proxy s", "evals", "skipped"]
    rows = []
    for ds, d in summary.groupby("dataset", sort=False):
        split = d["split"].dropna().iloc[0] if d["split"].notna().any() else "?"
        label = f"{ds} ({split})"
        for _, r in d.iterrows():
            rows.append([label, str(r["objective"]), str(int(r["seeds"])), _pm(r["acc_mean"], r["acc_std"]),
                         _pm(r["top_percent_mean"], np.nan), _pm(r["percentile_mean"], np.nan, "{:.1f}"),
                         f"{int(r['in_top1_percent'])}/{int(r['seeds'])}", _pm(r["time_mean"], r["time_std"]),
                         _pm(r["objective_seconds_mean"], np.nan), _pm(r["evals_mean"], np.nan, "{:.0f}"),
                         _pm(r["skipped_mean"], np.nan, "{:.0f}")])
        opt = d["optimum"].max()
        n = d["n_cells"].max()
        rows.append([label, f"benchmark optimum (of {int(n) if np.isfinite(n) else '?'} cells)", "", _pm(opt, np.nan),
                     "", "", "", "", "", "", ""])
    return head, rows


def to_markdown(summary: pd.DataFrame) -> str:
    head, rows = _rows(summary)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n\n" + ANCHOR_NOTE + "\n"


def to_latex(summary: pd.DataFrame) -> str:
    head, rows = _rows(summary)

    def esc(s: str) -> str:
        return s.replace("%", r"\%").replace("_", r"\_").replace("±", r"$\pm$").replace("&", r"\&")

    lines = [r"\begin{tabular}{ll" + "r" * (len(head) - 2) + "}", r"\toprule", " & ".join(map(esc, head)) + r" \\",
             r"\midrule"]
    lines += [" & ".join(map(esc, r)) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def figure(df: pd.DataFrame, summary: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Per dataset: accuracy of each seed's result per objective, with the benchmark optimum as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(summary["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        s = summary[summary["dataset"] == ds]
        objs = list(s["objective"])
        data = [df[(df["dataset"] == ds) & (df["objective"] == o)]["accuracy"].dropna().to_numpy() for o in objs]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(objs) + 1), objs)
        rng = np.random.default_rng(0)
        for i, vals in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(vals)), vals, s=10, alpha=0.6)
        opt = s["optimum"].max()
        if np.isfinite(opt):
            ax.axhline(opt, ls="--", color="k", lw=0.8, label=f"optimum {opt:.2f}")
            ax.legend(loc="lower left", fontsize=8)
        split = s["split"].dropna().iloc[0] if s["split"].notna().any() else ""
        ax.set_title(f"{ds} ({split})")
        ax.set_ylabel("accuracy of the found cell (%)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)


def write_table(paths: Iterable[str | os.PathLike[str]], csv: str | os.PathLike[str],
                markdown: str | os.PathLike[str] | None = None, latex: str | os.PathLike[str] | None = None,
                png: str | os.PathLike[str] | None = None, runs_csv: str | os.PathLike[str] | None = None
                ) -> pd.DataFrame:
    """Collect result files, write the summary CSV (+ markdown, LaTeX, figure, per-run CSV); return the summary."""
    df = collect(paths)
    summary = summarize(df)
    with atomic_path(csv) as tmp:
        summary.to_csv(tmp, index=False, float_format="%.6g")
    if runs_csv:
        with atomic_path(runs_csv) as tmp:
            df.to_csv(tmp, index=False, float_format="%.6g")
    if markdown:
        write_text_atomic(markdown, to_markdown(summary))
    if latex:
        write_text_atomic(latex, to_latex(summary))
    if png:
        Path(png).parent.mkdir(parents=True, exist_ok=True)
        figure(df, summary, png)
    return summary
