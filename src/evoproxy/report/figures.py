"""Paper figures (matplotlib, Agg backend) drawn from the tables of :mod:`evoproxy.report.tables`."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evoproxy.fileio import atomic_path  # noqa: E402
from evoproxy.report.tables import formula_size  # noqa: E402


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def _placeholder(path: str | Path, title: str, message: str) -> Path:
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return _save(fig, path)


def heatmap(mat: pd.DataFrame, path: str | Path, title: str = "Transfer matrix (Kendall τ, evolved proxy)") -> Path:
    """Annotated heatmap: rows = problem the proxy was evolved on, columns = test problem."""
    if mat.empty:
        return _placeholder(path, title, "no single-problem evaluations")
    n_r, n_c = mat.shape
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * n_c, 1.0 + 0.6 * n_r))
    vals = mat.to_numpy(dtype=float)
    im = ax.imshow(vals, cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(n_r):
        for j in range(n_c):
            v = vals[i, j]
            ax.text(j, i, "–" if not np.isfinite(v) else f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if np.isfinite(v) and abs(v) > 0.6 else "black")
    ax.set_xticks(range(n_c), mat.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n_r), mat.index, fontsize=7)
    ax.set_xlabel("tested on (test split)")
    ax.set_ylabel("evolved on (train split)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _save(fig, path)


def ci_bars(wins: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Per problem: evolved vs best single baseline tau, bars with 95% bootstrap whiskers."""
    if wins.empty:
        return _placeholder(path, title, "no evaluations")

    def bounds(ci: pd.Series) -> np.ndarray:
        return np.array([[float(x) for x in s.strip("[]").split(",")] for s in ci])

    n = len(wins)
    x = np.arange(n)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * n + 2), 3.6))
    for off, col, ci, lab, color in [(-0.2, "evolved", "evolved_ci", "evolved", "tab:red"),
                                     (0.2, "baseline_tau", "baseline_ci", "best single (chosen on training)",
                                      "tab:gray")]:
        v = wins[col].to_numpy(dtype=float)
        b = bounds(wins[ci])
        err = np.vstack([v - b[:, 0], b[:, 1] - v])
        ax.bar(x + off, v, 0.4, yerr=np.clip(np.where(np.isfinite(err), err, 0), 0, None), capsize=2, label=lab, color=color)
    for i, o in enumerate(wins["outcome"]):
        if o == "evolved":
            ax.text(i, ax.get_ylim()[1] * 0.98, "*", ha="center", va="top", color="tab:red")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xticks(x, wins["problem"], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("Kendall τ on test split")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return _save(fig, path)


def fitness_curves(runs: list[dict], path: str | Path, title: str) -> Path:
    """Best and mean training fitness per generation, one line per run (grouped by training set; one line collection
    per training set and curve, so hundreds of runs draw in a fraction of a second)."""
    from matplotlib.collections import LineCollection

    runs = [r for r in runs if r.get("history")]
    if not runs:
        return _placeholder(path, title, "no run history recorded")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    sets = sorted({r["_trainset"] for r in runs})
    cmap = plt.get_cmap("tab20")
    for i, s in enumerate(sets):
        best, mean = [], []
        for r in runs:
            if r["_trainset"] == s:
                gen = [h["gen"] for h in r["history"]]
                best.append(np.column_stack([gen, [h["best"] for h in r["history"]]]))
                if all("mean" in h for h in r["history"]):
                    mean.append(np.column_stack([gen, [h["mean"] for h in r["history"]]]))
        c = cmap(i % 20)
        ax.add_collection(LineCollection(best, colors=[c], linewidths=1))
        if mean:
            ax.add_collection(LineCollection(mean, colors=[c], linewidths=0.6, linestyles=":"))
    ax.autoscale_view()
    for i, s in enumerate(sets[:20]):
        ax.plot([], [], color=cmap(i % 20), label=s)
    ax.set_xlabel("generation")
    ax.set_ylabel("training fitness (solid: best, dotted: mean)")
    ax.set_title(title)
    if len(sets) <= 13:  # beside the axes: over them it would hide curves
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, path)


def pareto_front(runs: list[dict], path: str | Path, title: str = "Training fitness vs formula size") -> Path:
    """Recorded Pareto fronts (``pareto`` entries) when present, else each run's final formula, with the front."""
    pts = []
    for r in runs:
        for p in r.get("pareto") or []:
            pts.append((p.get("size") or formula_size(p.get("formula", [])), p.get("fitness"), r["_protocol"]))
        if not r.get("pareto"):
            pts.append((formula_size(r.get("formula", [])), r["fitness"].get("train_fitness"), r["_protocol"]))
    pts = [(s, f, p) for s, f, p in pts if f is not None and np.isfinite(f)]
    if not pts:
        return _placeholder(path, title, "no formulas recorded")
    df = pd.DataFrame(pts, columns=["size", "fitness", "protocol"])
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for proto, g in df.groupby("protocol"):
        ax.scatter(g["size"], g["fitness"], s=12, alpha=0.6, label=proto)
    front = df.sort_values(["size", "fitness"], ascending=[True, False])
    front = front[front["fitness"] > front["fitness"].cummax().shift(fill_value=-np.inf)]
    ax.step(front["size"], front["fitness"], where="post", color="black", lw=1, label="Pareto front")
    ax.set_xlabel("formula size (nodes)")
    ax.set_ylabel("training fitness")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return _save(fig, path)
