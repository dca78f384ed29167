"""Compare two pipeline result folders, ignoring what is timing or provenance: are the outputs the same?

Used to check that a change which should not alter behaviour (speed, structure) leaves every output as it was:

    python benchmarks/compare_results.py OLD_RESULTS NEW_RESULTS

JSON files are compared field by field with timing keys dropped (any key naming seconds or wall time, the git
revision and package versions); Parquet and CSV tables cell by cell with timing columns dropped (exact equality,
NaN equal to NaN); Markdown and LaTeX tables line by line after dropping the columns whose header names a time;
``report.md`` likewise. Snakemake's ``timings/`` and ``logs/`` and figures (PNG: they embed no data beyond the tables)
are skipped. Prints every difference and exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

SKIP_DIRS = {"timings", "benchmarks", "logs", ".snakemake"}  # benchmarks: the timings folder before its rename
TIMING = re.compile(r"(seconds|wall|_time|time_|^time$|^elapsed|git_revision|^git$|^versions$|search s|proxy s)",
                    re.IGNORECASE)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items() if not TIMING.search(str(k))}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return x


def _json_diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'new' if k in b else 'old'}")
            else:
                out += _json_diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (u, v) in enumerate(zip(a, b, strict=True)) for d in _json_diff(u, v, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[:80]} != {str(b)[:80]}"]


def _frame(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return df[[c for c in df.columns if not TIMING.search(str(c))]]


KEYS = ("protocol", "trainset", "problem", "method", "dataset", "objective", "seed", "arch")
"""Columns that name a row; tables that have them are compared row by row on their common rows."""


def _frame_diff(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Cell differences on the common columns (and, keyed by :data:`KEYS`, the common rows); added or removed
    columns and rows are listed, not counted as changed values."""
    out = []
    cols = [c for c in a.columns if c in set(b.columns)]
    if set(a.columns) != set(b.columns):
        out.append(f"columns only in old {sorted(set(a.columns) - set(b.columns))}, "
                   f"only in new {sorted(set(b.columns) - set(a.columns))}")
    keys = [k for k in KEYS if k in cols]
    if keys and not a.duplicated(keys).any() and not b.duplicated(keys).any():
        a, b = a[cols].set_index(keys), b[cols].set_index(keys)
        if len(a.index.difference(b.index)) or len(b.index.difference(a.index)):
            out.append(f"rows only in old {len(a.index.difference(b.index))}, "
                       f"only in new {len(b.index.difference(a.index))}")
        common = a.index.intersection(b.index)
        a, b = a.loc[common], b.loc[common]
    elif a.shape[0] != b.shape[0]:
        return out + [f"{a.shape[0]} rows != {b.shape[0]} (no row keys to align them)"]
    else:
        a, b = a[cols].reset_index(drop=True), b[cols].reset_index(drop=True)
    diff = ~((a == b) | (a.isna() & b.isna()))
    return out + [f"column {c}: {int(diff[c].sum())} of {len(diff)} cells differ" for c in diff.columns
                  if diff[c].any()]


def _table_lines(text: str) -> list[str]:
    """Markdown/LaTeX lines with the cells of timing columns dropped (columns named in the header row)."""
    out, drop, sep = [], set(), None
    for line in text.splitlines():
        cells = None
        if line.startswith("|"):
            sep, cells = "|", line.strip("|").split("|")
        elif "&" in line and line.rstrip().endswith("\\\\"):
            sep, cells = "&", line.rstrip()[:-2].split("&")
        if cells is None:
            if not line.strip() or line.startswith("\\begin"):
                drop = set()  # a new table
            out.append("" if line.startswith("Git revision") else line)
            continue
        if not drop and any(TIMING.search(c.strip()) for c in cells):
            drop = {i for i, c in enumerate(cells) if TIMING.search(c.strip())}
        out.append(sep.join(c for i, c in enumerate(cells) if i not in drop))
    return out


def compare_file(old: Path, new: Path) -> list[str]:
    if old.suffix == ".json":
        return _json_diff(_clean(json.loads(old.read_text())), _clean(json.loads(new.read_text())))
    if old.suffix in (".parquet", ".csv"):
        return _frame_diff(_frame(old), _frame(new))
    if old.suffix in (".md", ".tex"):
        la, lb = _table_lines(old.read_text()), _table_lines(new.read_text())
        return [f"line {i + 1}: {x[:80]!r} != {y[:80]!r}" for i, (x, y) in enumerate(zip(la, lb, strict=False))
                if x != y] + ([f"{len(la)} lines != {len(lb)}"] if len(la) != len(lb) else [])
    return []


def compare(old_dir: Path, new_dir: Path) -> dict[str, list[str]]:
    def files(root: Path) -> set[Path]:
        return {p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and not SKIP_DIRS & set(p.relative_to(root).parts) and p.suffix != ".png"}

    a, b = files(old_dir), files(new_dir)
    out: dict[str, list[str]] = {str(p): ["only in old"] for p in sorted(a - b)}
    out |= {str(p): ["only in new"] for p in sorted(b - a)}
    for rel in sorted(a & b):
        d = compare_file(old_dir / rel, new_dir / rel)
        if d:
            out[str(rel)] = d
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    args = ap.parse_args()
    diffs = compare(args.old, args.new)
    n = sum(1 for _ in args.old.rglob("*") if _.is_file())
    for rel, lines in diffs.items():
        print(f"{rel}:")
        for line in lines[:10]:
            print(f"    {line}")
        if len(lines) > 10:
            print(f"    ... {len(lines) - 10} more")
    print(f"{len(diffs)} of {n} files differ (timings, logs, figures and provenance ignored)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
