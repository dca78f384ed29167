"""Hand-crafted baselines: how well each single ZC proxy ranks the archs of each problem (all rows, no split).

Per (problem, proxy): ``n`` (rows scored: finite target), ``n_finite`` (rows where the proxy is finite too),
Spearman rho, Kendall tau-b and top-5% precision (share of the true top 5% found in the proxy's top 5%), under the
one rule of :mod:`evoproxy.metrics` (a missing or non-finite proxy value ranks last). Proxies absent from a problem
are omitted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from evoproxy import PROXIES
from evoproxy.fileio import atomic_path, write_text_atomic
from evoproxy.metrics import finite_rows, kendall, n_scored, spearman, top_k_precision
from evoproxy.problems import ProblemTable

COLUMNS = ["problem", "space", "task", "proxy", "n", "n_finite", "spearman", "kendall", "top5"]


def proxy_scores(table: ProblemTable, proxies: tuple[str, ...] = PROXIES) -> pd.DataFrame:
    """Correlation of every proxy ``table`` has with its target."""
    y = table.target
    rows = []
    for proxy in proxies:
        x = table.values(proxy)
        finite = int((np.isfinite(x) & finite_rows(y)).sum())
        if not finite:
            continue
        rows.append({
            "problem": table.id, "space": table.space, "task": table.task, "proxy": proxy, "n": n_scored(y),
            "n_finite": finite, "spearman": spearman(x, y), "kendall": kendall(x, y),
            "top5": top_k_precision(x, y, 0.05),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def baselines(tables: list[ProblemTable]) -> pd.DataFrame:
    """Long table of :func:`proxy_scores` over all problems."""
    return pd.concat([proxy_scores(t) for t in tables], ignore_index=True)


def to_markdown(df: pd.DataFrame, metric: str = "kendall") -> str:
    """Problems x proxies table of ``metric`` (best per problem in bold), with n per problem."""
    problems = list(dict.fromkeys(df["problem"]))
    proxies = [p for p in PROXIES if p in set(df["proxy"])]
    lines = [
        f"| problem | n | {' | '.join(proxies)} |",
        "|---|---:|" + "---:|" * len(proxies),
    ]
    for pid in problems:
        sub = df[df["problem"] == pid].set_index("proxy")
        best = sub[metric].max()
        cells = []
        for p in proxies:
            if p not in sub.index:
                cells.append("—")
                continue
            v = sub.at[p, metric]
            text = f"{v:.3f}"
            cells.append(f"**{text}**" if np.isclose(v, best) else text)
        lines.append(f"| {pid} | {int(sub['n'].max())} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def write_baselines(df: pd.DataFrame, out: str | os.PathLike[str], markdown: str | os.PathLike[str] | None) -> None:
    """Write the long table (Parquet) and, optionally, Kendall and Spearman markdown tables."""
    with atomic_path(Path(out)) as tmp:
        df.to_parquet(tmp, index=False)
    if markdown:
        text = (
            "# Hand-crafted zero-cost proxies: rank correlation with validation accuracy (all archs of each problem)\n\n"
            "n = archs scored (finite accuracy); a missing or non-finite proxy value ranks last; — = proxy absent from "
            "the problem; best per problem in bold.\n\n"
            "## Kendall τ-b\n\n" + to_markdown(df, "kendall") + "\n## Spearman ρ\n\n" + to_markdown(df, "spearman")
            + "\n## Top-5% precision\n\n" + to_markdown(df, "top5")
        )
        write_text_atomic(markdown, text)
