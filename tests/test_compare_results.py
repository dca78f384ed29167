"""benchmarks/compare_results.py: timings and provenance are ignored, any other change is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_results.py"


def _results(root: Path, tau: float, seconds: float, formula: str = "mul(nwot, flops)") -> Path:
    (root / "evolve").mkdir(parents=True)
    (root / "tables").mkdir()
    (root / "timings").mkdir()
    run = {"text": formula, "fitness": {"train_fitness": tau}, "wall_seconds": seconds,
           "history": [{"gen": 0, "best": tau, "seconds": seconds}], "versions": {"numpy": str(seconds)}}
    (root / "evolve" / "run_0.json").write_text(json.dumps(run))
    pd.DataFrame({"problem": ["a", "b"], "kendall": [tau, float("nan")], "wall_seconds_mean": [seconds, 1.0]}
                 ).to_csv(root / "tables" / "runs.csv", index=False)
    (root / "tables" / "runs.md").write_text(f"| problem | kendall | search s |\n|---|---|---|\n| a | {tau} | {seconds} |\n")
    (root / "tables" / "runs.tex").write_text(
        "\\begin{tabular}{lll}\n\\toprule\nproblem & kendall & search s \\\\\n\\midrule\n"
        f"a & {tau} & {seconds} \\\\\n\\bottomrule\n\\end{{tabular}}\n")
    (root / "timings" / "x.tsv").write_text(str(seconds))
    return root


def _compare(a: Path, b: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(a), str(b)], capture_output=True, text=True)


def test_only_timings_differ_is_the_same(tmp_path: Path) -> None:
    res = _compare(_results(tmp_path / "old", 0.5, 1.25), _results(tmp_path / "new", 0.5, 9.75))
    assert res.returncode == 0, res.stdout
    assert "0 of" in res.stdout


def test_a_changed_value_or_formula_is_reported(tmp_path: Path) -> None:
    old = _results(tmp_path / "old", 0.5, 1.25)
    res = _compare(old, _results(tmp_path / "tau", 0.51, 1.25))
    assert res.returncode == 1
    for name in ("evolve/run_0.json", "tables/runs.csv", "tables/runs.md", "tables/runs.tex"):
        assert name in res.stdout
    res = _compare(old, _results(tmp_path / "formula", 0.5, 1.25, formula="nwot"))
    assert res.returncode == 1 and "/text: mul(nwot, flops) != nwot" in res.stdout
