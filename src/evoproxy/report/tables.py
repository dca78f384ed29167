"""Paper tables built only from result files (evaluation Parquets, FormulaRun JSONs), as CSV, Markdown, LaTeX.

Every table is a :class:`pandas.DataFrame` whose numeric columns are the values; ``write_table`` renders it three
ways. In Markdown and LaTeX the best value of each row among the zero-cost methods is bold (the supervised
reference, which uses labels, is never bolded and is marked with a dagger).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evoproxy import PROXIES
from evoproxy.evaluate import interval_below
from evoproxy.fileio import read_json, write_text_atomic
from evoproxy.report.outputs import TABLE_FORMATS

SUPERVISED = "supervised†"
LEADING = ["evolved", "best_single", "ensemble_all", "ensemble_top3"]


def load_evaluations(eval_dir: str | Path) -> pd.DataFrame:
    """Concatenate every ``<protocol>/<trainset>.parquet`` under ``eval_dir``."""
    files = sorted(Path(eval_dir).glob("*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"{eval_dir}: no evaluation files '<protocol>/<trainset>.parquet'")
    frames = []
    for f in files:
        df = pd.read_parquet(f)
        missing = {"problem", "method", "kind", "kendall", "spearman"} - set(df.columns)
        if missing:
            raise ValueError(f"{f}: missing columns {sorted(missing)}")
        df["protocol"] = f.parent.name
        df["trainset"] = f.stem
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _label(row: pd.Series) -> str:
    if row["kind"] == "best_single":
        return "best_single"
    if row["kind"] == "supervised":
        return SUPERVISED
    return str(row["method"])


def _order(problems: Sequence[str], order: Sequence[str] | None) -> list[str]:
    if not order:
        return list(dict.fromkeys(problems))
    known = [p for p in order if p in set(problems)]
    return known + [p for p in dict.fromkeys(problems) if p not in set(known)]


def per_problem_table(ev: pd.DataFrame, metric: str = "kendall", order: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows problems, columns methods (``metric`` on each test split), plus the chosen best-single proxy."""
    ev = ev.assign(label=ev.apply(_label, axis=1))
    dup = ev.duplicated(["problem", "label"])
    if dup.any():
        r = ev[dup].iloc[0]
        raise ValueError(f"problem {r['problem']!r} has method {r['label']!r} twice (several training sets?)")
    tab = ev.pivot(index="problem", columns="label", values=metric)
    cols = [c for c in LEADING if c in tab.columns] + [p for p in PROXIES if p in tab.columns]
    cols += [c for c in tab.columns if c not in cols and c != SUPERVISED] + [c for c in [SUPERVISED] if c in tab]
    tab = tab.loc[_order(tab.index, order), cols]
    chosen = ev[ev["kind"] == "best_single"].set_index("problem")["method"].str.extract(r"\((.*)\)")[0]
    if len(chosen):
        tab["best_single_proxy"] = chosen.reindex(tab.index)
    if "trainset" in ev and ev["trainset"].nunique() > 1:
        tab["trainset"] = ev.drop_duplicates("problem").set_index("problem")["trainset"].reindex(tab.index)
    tab.index.name = "problem"
    return tab


def transfer_matrix(ev: pd.DataFrame, metric: str = "kendall", order: Sequence[str] | None = None) -> pd.DataFrame:
    """Single-problem protocol: rows = training problem, columns = test problem, the evolved proxy's ``metric``."""
    evo = ev[ev["kind"] == "evolved"].copy()
    evo["train_problem"] = evo["trainset"].str.replace("__", "/", n=1, regex=False)
    mat = evo.pivot(index="train_problem", columns="problem", values=metric)
    rows = _order(mat.index, order)
    cols = _order(mat.columns, order)
    mat = mat.loc[rows, cols]
    mat.index.name = "trained on \\ tested on"
    return mat


def wins_table(ev: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per protocol and problem: evolved vs best-single tau with 95% intervals and who wins (non-overlap)."""
    rows = []
    for (proto, trainset, pid), g in ev.groupby(["protocol", "trainset", "problem"], sort=False):
        e = g[g["kind"] == "evolved"]
        b = g[g["kind"] == "best_single"]
        if e.empty or b.empty:
            continue
        e, b = e.iloc[0], b.iloc[0]
        win = bool(interval_below(b["ci_high"], e["ci_low"]))
        lose = bool(interval_below(e["ci_high"], b["ci_low"]))
        rows.append({
            "protocol": proto, "trainset": trainset, "problem": pid,
            "evolved": e["kendall"], "evolved_ci": f"[{e['ci_low']:.3f}, {e['ci_high']:.3f}]",
            "baseline": str(b["method"]), "baseline_tau": b["kendall"],
            "baseline_ci": f"[{b['ci_low']:.3f}, {b['ci_high']:.3f}]",
            "outcome": "evolved" if win else ("baseline" if lose else "overlap"),
        })
    return pd.DataFrame(rows)


def win_summary(wins: pd.DataFrame) -> pd.DataFrame:
    """Per protocol: problems (pairs for 'single') where each side's interval lies above the other's."""
    if wins.empty:
        return pd.DataFrame(columns=["protocol", "pairs", "evolved", "overlap", "baseline"])
    g = wins.groupby("protocol", sort=False)["outcome"]
    out = pd.DataFrame({
        "pairs": g.size(), "evolved": g.apply(lambda s: int((s == "evolved").sum())),
        "overlap": g.apply(lambda s: int((s == "overlap").sum())),
        "baseline": g.apply(lambda s: int((s == "baseline").sum())),
    })
    return out.reset_index()


def formula_size(formula) -> int:
    """Node count of a nested prefix-list formula (every atom counts 1)."""
    if isinstance(formula, list | tuple):
        return sum(formula_size(f) for f in formula)
    return 1


def load_runs(evolve_dir: str | Path) -> list[dict]:
    """Every ``run_<seed>.json`` under ``evolve_dir/<protocol>/<trainset>/``, tagged with protocol and trainset."""
    runs = []
    for f in sorted(Path(evolve_dir).glob("*/*/run_*.json")):
        r = read_json(f, "FormulaRun file")
        if "fitness" not in r:
            raise ValueError(f"{f}: FormulaRun without 'fitness'")
        r["_protocol"], r["_trainset"], r["_path"] = f.parent.parent.name, f.parent.name, str(f)
        runs.append(r)
    return runs


def _test_mean(run: dict, metric: str) -> float:
    vals = [v.get("test", {}).get(metric) for v in run["fitness"].get("per_problem", {}).values()]
    vals = [v for v in vals if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def run_statistics(runs: list[dict], evolve_dir: str | Path) -> pd.DataFrame:
    """Per protocol x trainset: runs, the fitness metric, train fitness and mean test tau (mean ± std over runs), best
    formula. ``fitness`` names the train fitness's rank correlation (kendall, spearman), which differs by method."""
    rows = []
    df = pd.DataFrame([{
        "protocol": r["_protocol"], "trainset": r["_trainset"], "train": r["fitness"].get("train_fitness"),
        "metric": r["fitness"].get("metric", ""),
        "test_kendall": _test_mean(r, "kendall"), "test_spearman": _test_mean(r, "spearman"),
        "wall_seconds": r.get("wall_seconds"), "size": formula_size(r.get("formula", [])),
    } for r in runs])
    if df.empty:
        return pd.DataFrame(columns=["protocol", "trainset", "runs"])
    for (proto, ts), g in df.groupby(["protocol", "trainset"], sort=False):
        best = Path(evolve_dir) / proto / ts / "best.json"
        b = json.loads(best.read_text()) if best.exists() else {}
        rows.append({
            "protocol": proto, "trainset": ts, "runs": len(g), "fitness": "/".join(sorted(set(g["metric"]))),
            "train_mean": g["train"].mean(), "train_std": g["train"].std(ddof=0),
            "test_kendall_mean": g["test_kendall"].mean(), "test_kendall_std": g["test_kendall"].std(ddof=0),
            "size_mean": g["size"].mean(), "wall_seconds_mean": g["wall_seconds"].astype(float).mean(),
            "best_formula": b.get("latex") or b.get("text", ""), "best_text": b.get("text", ""),
        })
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- rendering
def _fmt(v, digits: int = 3) -> str:
    if isinstance(v, float | np.floating):
        return "–" if not np.isfinite(v) else f"{v:.{digits}f}"
    return str(v)


def _best_mask(tab: pd.DataFrame, bold: bool) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=tab.index, columns=tab.columns)
    if not bold:
        return mask
    cand = [c for c in tab.columns if c != SUPERVISED and pd.api.types.is_float_dtype(tab[c])]
    if not cand:
        return mask
    vals = tab[cand].astype(float)
    best = vals.max(axis=1)
    for c in cand:
        mask[c] = np.isclose(vals[c], best) & np.isfinite(vals[c])
    return mask


def to_markdown(tab: pd.DataFrame, bold: bool = True, index: bool = True) -> str:
    mask = _best_mask(tab, bold)
    head = ([str(tab.index.name or "")] if index else []) + [str(c) for c in tab.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, (key, row) in enumerate(tab.iterrows()):
        cells = [_fmt(v) for v in row]
        cells = [f"**{c}**" if mask.iloc[i, j] else c for j, c in enumerate(cells)]
        lines.append("| " + " | ".join(([str(key)] if index else []) + cells) + " |")
    return "\n".join(lines) + "\n"


def _tex(s: str) -> str:
    return str(s).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("&", "\\&").replace("%", "\\%")


def to_latex(tab: pd.DataFrame, bold: bool = True, index: bool = True, raw_cols: Sequence[str] = ()) -> str:
    """booktabs tabular; ``raw_cols`` hold LaTeX already (e.g. formulas) and are put in math mode unescaped."""
    mask = _best_mask(tab, bold)
    ncol = len(tab.columns) + int(index)
    head = ([_tex(tab.index.name or "")] if index else []) + [_tex(c).replace("†", "$^\\dagger$") for c in tab.columns]
    out = ["\\begin{tabular}{" + ("l" if index else "") + "r" * len(tab.columns) + "}", "\\toprule",
           " & ".join(head) + " \\\\", "\\midrule"]
    for i, (key, row) in enumerate(tab.iterrows()):
        cells = []
        for j, (c, v) in enumerate(row.items()):
            cell = f"${v}$" if c in raw_cols and v else _tex(_fmt(v)).replace("–", "--")
            cells.append(f"\\textbf{{{cell}}}" if mask.iloc[i, j] else cell)
        out.append(" & ".join(([_tex(key)] if index else []) + cells) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}"]
    assert ncol == len(head)
    return "\n".join(out) + "\n"


def write_table(tab: pd.DataFrame, out_dir: str | Path, name: str, bold: bool = True, index: bool = True,
                raw_cols: Sequence[str] = ()) -> dict[str, Path]:
    """Write ``name``.csv/.md/.tex atomically; return the paths."""
    out_dir = Path(out_dir)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in TABLE_FORMATS}
    write_text_atomic(paths["csv"], tab.to_csv(index=index, float_format="%.6g"))
    write_text_atomic(paths["md"], to_markdown(tab, bold, index))
    write_text_atomic(paths["tex"], to_latex(tab, bold, index, raw_cols))
    return paths
