"""Regenerate every paper table and figure from result files and stitch them into ``report.md``.

Reads only: evaluation Parquets (``results/evaluation/<protocol>/<trainset>.parquet``), FormulaRun JSONs
(``results/evolve/<protocol>/<trainset>/run_*.json`` and ``best.json``) and, when present, the NAS table. No
number is computed from the benchmark data here, so a changed result file changes the tables.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from evoproxy.fileio import write_text_atomic
from evoproxy.report import figures
from evoproxy.report import generalisation as gen
from evoproxy.report.outputs import (
    GENERALISATION_KINDS,
    GENERALISATION_SUMMARY,
    GENERALISATION_TABLE,
    METRICS,
    PARETO_FIGURE,
    RUNS_TABLE,
    WINS_SUMMARY_TABLE,
    WINS_TABLE,
    bars_figure,
    fitness_figure,
    generalisation_figure,
    protocol_table,
    transfer_figure,
)
from evoproxy.report.tables import (
    load_evaluations,
    load_runs,
    per_problem_table,
    run_statistics,
    to_markdown,
    transfer_matrix,
    win_summary,
    wins_table,
    write_table,
)

PROTOCOL_TITLES = {
    "multi": "Multi-problem protocol (evolved on the train splits of all problems)",
    "single": "Single-problem transfer matrix (evolved on one problem, tested on every problem)",
    "loso": "Leave-one-space-out (evolved on the other spaces, tested on the held-out space)",
    "lopo": "Leave-one-problem-out (evolved on the other problems, tested on the held-out problem)",
    "loto": "Leave-one-task-out (evolved on the other tasks of a space, tested on the held-out task)",
}


def _title(proto: str, kind: str, gp_method: str) -> str:
    title = PROTOCOL_TITLES.get(kind, f"Protocol '{proto}'")
    return title if gp_method in ("", "recommended") else f"{title}, {gp_method} method ({proto})"


def git_revision(cwd: str | Path | None = None) -> str:
    """Revision of the evoproxy checkout (default: the one this module lives in): hash plus ``-dirty``."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def build_report(
    eval_dir: str | Path,
    evolve_dir: str | Path,
    tables_dir: str | Path,
    figures_dir: str | Path,
    report_path: str | Path,
    config: dict | None = None,
    order: Sequence[str] | None = None,
    nas_table: str | Path | None = None,
    revision: str | None = None,
    protocols: Sequence[str] | None = None,
) -> dict[str, list[Path]]:
    """Write all tables, figures and the report; return the written paths by kind."""
    tables_dir, figures_dir, report_path = Path(tables_dir), Path(figures_dir), Path(report_path)
    ev = load_evaluations(eval_dir)
    runs = load_runs(evolve_dir) if Path(evolve_dir).exists() else []
    if protocols:  # only these (stale results of a disabled protocol stay out of the report)
        ev = ev[ev["protocol"].isin(protocols)]
        runs = [r for r in runs if r["_protocol"] in protocols]
        if ev.empty:
            raise FileNotFoundError(f"{eval_dir}: no evaluations of protocols {list(protocols)}")
    order = list(order or (config or {}).get("problems") or [])
    if "protocol_kind" not in ev:
        ev = ev.assign(protocol_kind=ev["protocol"])
    if "gp_method" not in ev:
        ev = ev.assign(gp_method="recommended")
    all_ev, ev = ev, ev[ev["kind"] != "run"]  # per-run rows feed the generalisation tables only
    kinds = dict(zip(ev["protocol"], ev["protocol_kind"], strict=False))
    methods = dict(zip(ev["protocol"], ev["gp_method"], strict=False))
    written: dict[str, list[Path]] = {"tables": [], "figures": []}
    rel = lambda p: os.path.relpath(p, report_path.parent)  # noqa: E731
    sections: list[str] = []

    wins = wins_table(ev, order)
    summary = win_summary(wins)
    protocols = list(dict.fromkeys(ev["protocol"]))
    for proto in protocols:
        sub = ev[ev["protocol"] == proto]
        kind = kinds[proto]
        text = [f"## {_title(proto, kind, methods[proto])}\n"]
        s = summary[summary["protocol"] == proto]
        if len(s):
            s = s.iloc[0]
            unit = "train/test problem pairs" if kind == "single" else "test problems"
            text.append(
                f"Evolved proxy's 95% bootstrap interval of τ lies above the best single baseline's (chosen on the "
                f"training problems) on **{s['evolved']} of {s['pairs']}** {unit}, below it on {s['baseline']}, "
                f"overlapping on {s['overlap']}.\n")
        if kind == "single":
            for metric in METRICS:
                mat = transfer_matrix(sub, metric, order)
                written["tables"] += write_table(mat, tables_dir, protocol_table(proto, metric, kind),
                                                 bold=False).values()
                text.append(f"### Transfer matrix, {metric} (evolved proxy, test splits)\n\n"
                            + to_markdown(mat, bold=False))
            fig = figures.heatmap(transfer_matrix(sub, "kendall", order), figures_dir / transfer_figure(proto))
            written["figures"].append(fig)
            text.append(f"![transfer matrix]({rel(fig)})\n")
        else:
            for metric in METRICS:
                tab = per_problem_table(sub, metric, order)
                written["tables"] += write_table(tab, tables_dir, protocol_table(proto, metric)).values()
                if metric == "kendall":
                    text.append("### Kendall τ on the test splits (best zero-cost method in bold; † uses 400 "
                                "labels of the test problem)\n\n" + to_markdown(tab))
            w = wins[wins["protocol"] == proto]
            fig = figures.ci_bars(w, figures_dir / bars_figure(proto),
                                  f"{proto}: evolved vs best single proxy (95% bootstrap CI)")
            written["figures"].append(fig)
            text.append(f"![evolved vs best baseline, {proto}]({rel(fig)})\n")
        pr = [r for r in runs if r["_protocol"] == proto]
        fig = figures.fitness_curves(pr, figures_dir / fitness_figure(proto), f"{proto}: fitness per generation")
        written["figures"].append(fig)
        text.append(f"![fitness curves, {proto}]({rel(fig)})\n")
        sections.append("\n".join(text))

    written["tables"] += write_table(wins.set_index(["protocol", "trainset", "problem"]) if len(wins) else wins,
                                     tables_dir, WINS_TABLE, bold=False).values()
    written["tables"] += write_table(summary, tables_dir, WINS_SUMMARY_TABLE, bold=False, index=False).values()
    stats = run_statistics(runs, evolve_dir)
    if len(stats):
        written["tables"] += write_table(stats.drop(columns=["best_text"]), tables_dir, RUNS_TABLE, bold=False,
                                         index=False, raw_cols=["best_formula"]).values()
    fig = figures.pareto_front(runs, figures_dir / PARETO_FIGURE)
    written["figures"].append(fig)
    gen_section = _generalisation(all_ev, kinds, order, tables_dir, figures_dir, written, rel)

    head = ["# evoproxy results\n", f"Git revision: `{revision or git_revision()}`\n",
            "Generated by `evoproxy report` from the result files only (evaluation Parquets, FormulaRun JSONs).\n",
            "## Win counts (evolved vs best single proxy, non-overlapping 95% bootstrap intervals of τ)\n",
            to_markdown(summary, bold=False, index=False), *gen_section]
    tail = []
    if len(stats):
        show = stats[["protocol", "trainset", "runs", "fitness", "train_mean", "train_std", "test_kendall_mean",
                      "test_kendall_std", "size_mean", "best_text"]]
        tail.append("## Runs (mean ± std over seeds; best formula of each training set)\n\n"
                    + to_markdown(show, bold=False, index=False))
    tail.append(f"## Fitness vs formula size\n\n![pareto]({rel(fig)})\n")
    if nas_table and Path(nas_table).exists():
        tail.append("## NAS on NAS-Bench-201 with the evolved proxy\n\n" + Path(nas_table).read_text())
    if config is not None:
        tail.append("## Exact configuration\n\n```yaml\n" + yaml.safe_dump(config, sort_keys=False) + "```\n")
    write_text_atomic(report_path, "\n".join(head + sections + tail))
    written["report"] = [report_path]
    return written


def _generalisation(ev: pd.DataFrame, kinds: dict[str, str], order: Sequence[str], tables_dir: Path,
                    figures_dir: Path, written: dict[str, list[Path]], rel: Any) -> list[str]:
    """The generalisation section (protocols whose test problems were never seen): tables, figures, text."""
    gen_protocols = [p for p, k in kinds.items() if k in GENERALISATION_KINDS]
    if not gen_protocols:
        return []
    sub = ev[ev["protocol"].isin(gen_protocols)].copy()
    sub["protocol"] = sub["protocol_kind"]  # the paper and recommended blocks of one kind share its rows
    text = ["## Generalisation: problems never seen in training\n",
            "Per held-out problem, Kendall τ on its test split: each method's final proxy (the output of "
            "`evoproxy select`), the median and the worst of its independent runs over seeds (each run alone "
            "through the method's final rule), and the baselines "
            "on the same split (best single proxy and top-3 rank-mean chosen on the training problems among the "
            "proxies the held-out problem has, rank-mean of all proxies, nwot; † uses 400 labels of the held-out "
            "problem). 'wins' counts problems where the final proxy's τ is above the best single proxy's, "
            "'losses' those where its 95% bootstrap interval lies entirely below it.\n"]
    for metric in METRICS:
        pp = gen.per_problem(sub, metric, order)
        stem = GENERALISATION_TABLE + ("" if metric == "kendall" else f"_{metric}")
        tab = gen.table(pp)
        paths = write_table(tab, tables_dir, stem, bold=False)
        write_text_atomic(paths["csv"], gen.numeric_table(pp).to_csv(float_format="%.6g"))
        written["tables"] += paths.values()
        if metric == "kendall":
            summ = gen.summary(pp, sub, metric)
            written["tables"] += write_table(summ, tables_dir, GENERALISATION_SUMMARY, bold=False,
                                             index=False).values()
            text.append("### Summary (mean τ over the held-out problems; seeds: per-seed mean τ, median, worst, "
                        "mean ± std over seeds)\n\n" + to_markdown(summ, bold=False, index=False))
            text.append("### Per held-out problem (Kendall τ; runs: median (worst seed))\n\n"
                        + to_markdown(tab, bold=False))
            for kind in dict.fromkeys(sub["protocol"]):
                fig = gen.figure(pp, sub, kind, figures_dir / generalisation_figure(kind), metric)
                written["figures"].append(fig)
                text.append(f"![generalisation, {kind}]({rel(fig)})\n")
        else:
            text.append("### Per held-out problem (Spearman ρ)\n\n" + to_markdown(tab, bold=False))
    return ["\n".join(text)]


__all__ = ["build_report", "git_revision", "pd"]
