"""Report: tables/figures/report.md regenerated from small fixture result files only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_evaluate import make_table

from evoproxy.evaluate import evaluate
from evoproxy.fileio import write_json_atomic
from evoproxy.report.report import build_report
from evoproxy.report.tables import (
    formula_size,
    load_evaluations,
    per_problem_table,
    to_latex,
    transfer_matrix,
)

PIDS = ["a/x", "a/y", "b/z"]
GOOD = {"a/x": "synflow", "a/y": "synflow", "b/z": "zen"}


def _tables():
    return {pid: make_table(*pid.split("/"), 160, GOOD[pid], seed=i) for i, pid in enumerate(PIDS)}


def _run(protocol: str, trainset: str, seed: int, train: list[str], fit: float) -> dict:
    return {
        "formula": ["add", "synflow", ["mul", "zen", "nwot"]], "text": "synflow + zen*nwot",
        "latex": r"\mathrm{synflow} + \mathrm{zen}\,\mathrm{nwot}", "proxies": ["synflow", "zen", "nwot"],
        "fitness": {"metric": "kendall", "aggregate": "mean", "train_fitness": fit,
                    "per_problem": {p: {"train": {"n": 50, "kendall": fit, "spearman": fit},
                                        "test": {"n": 110, "kendall": fit - 0.1, "spearman": fit}} for p in train}},
        "seed": seed, "trainset": train, "wall_seconds": 1.5,
        "history": [{"gen": g, "best": fit * (g + 1) / 5, "mean": fit * g / 10, "mean_size": 5} for g in range(5)],
        "pareto": [{"formula": ["synflow"], "text": "synflow", "fitness": fit - 0.2, "size": 1},
                   {"formula": ["add", "synflow", "zen"], "text": "synflow+zen", "fitness": fit, "size": 3}],
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("results")
    tabs = _tables()
    kw = dict(n_train=50, split_seed=0, n_boot=100)
    scorer = lambda t: t.values("synflow") + t.values("zen")  # noqa: E731
    sets = {("multi", "all"): (PIDS, PIDS)}
    sets.update({("single", p.replace("/", "__")): ([p], PIDS) for p in PIDS})
    sets.update({("loso", "no_a"): (["b/z"], ["a/x", "a/y"]), ("loso", "no_b"): (["a/x", "a/y"], ["b/z"])})
    for (proto, ts), (train, test) in sets.items():
        sup = 40 if proto == "multi" else 0  # the supervised reference is tested in test_evaluate; keep this fast
        df = evaluate(scorer, [tabs[p] for p in train], [tabs[p] for p in test], n_supervised=sup, **kw)
        df.attrs = {}
        out = root / "evaluation" / proto / f"{ts}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(out)
        for seed in (0, 1):
            write_json_atomic(root / "evolve" / proto / ts / f"run_{seed}.json", _run(proto, ts, seed, train, 0.5 + seed / 10))
        write_json_atomic(root / "evolve" / proto / ts / "best.json", _run(proto, ts, 1, train, 0.6))
    return root


def _build(root: Path, out: Path, **kw):
    return build_report(root / "evaluation", root / "evolve", out / "tables", out / "figures", out / "report.md",
                        config={"problems": PIDS, "report": {"n_boot": 100}}, revision="abc123", **kw)


def test_transfer_matrix_shape_and_labels(results):
    ev = load_evaluations(results / "evaluation")
    mat = transfer_matrix(ev[ev["protocol"] == "single"], "kendall", PIDS)
    assert mat.shape == (3, 3)
    assert list(mat.index) == PIDS and list(mat.columns) == PIDS
    evo = ev[(ev["protocol"] == "single") & (ev["kind"] == "evolved")]
    v = evo[(evo["trainset"] == "a__y") & (evo["problem"] == "b/z")]["kendall"].iloc[0]
    assert mat.loc["a/y", "b/z"] == v


def test_per_problem_table_columns_and_bold(results):
    ev = load_evaluations(results / "evaluation")
    tab = per_problem_table(ev[ev["protocol"] == "multi"], "kendall", PIDS)
    assert list(tab.index) == PIDS
    assert list(tab.columns[:4]) == ["evolved", "best_single", "ensemble_all", "ensemble_top3"]
    assert "supervised†" in tab.columns and tab["best_single_proxy"].notna().all()
    tex = to_latex(tab)
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\textbf{" in tex
    # bold = max of the zero-cost columns in each row
    for pid, line in zip(PIDS, tex.splitlines()[4:7], strict=True):
        row = tab.loc[pid].drop(["supervised†", "best_single_proxy"]).astype(float)
        assert f"\\textbf{{{row.max():.3f}}}" in line
    # several training sets for the same problem in one table is an error, not a silent pick
    with pytest.raises(ValueError, match="twice"):
        per_problem_table(ev[ev["protocol"] == "single"])


def test_report_writes_everything_and_follows_result_files(results, tmp_path):
    w = _build(results, tmp_path / "r1")
    names = {p.name for p in w["tables"]}
    for stem in ("per_problem_multi", "per_problem_loso", "transfer_kendall", "transfer_spearman", "wins", "runs"):
        assert {f"{stem}.csv", f"{stem}.md", f"{stem}.tex"} <= names
    for f in ("transfer_matrix.png", "bars_multi.png", "bars_loso.png", "fitness_multi.png", "pareto.png"):
        p = tmp_path / "r1" / "figures" / f
        assert p.read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "r1" / "report.md").read_text()
    assert "abc123" in report and "figures/transfer_matrix.png" in report and "n_boot: 100" in report
    runs = pd.read_csv(tmp_path / "r1" / "tables" / "runs.csv")
    multi = runs[runs["protocol"] == "multi"].iloc[0]
    assert multi["fitness"] == "kendall"
    assert multi["runs"] == 2 and multi["train_mean"] == pytest.approx(0.55) and multi["train_std"] == pytest.approx(0.05)
    # loso: every held-out problem once, with the training set it came from
    loso = pd.read_csv(tmp_path / "r1" / "tables" / "per_problem_loso.csv")
    assert sorted(loso["problem"]) == sorted(PIDS) and set(loso["trainset"]) == {"no_a", "no_b"}

    # change one result value: the tables follow
    f = results / "evaluation" / "multi" / "all.parquet"
    df = pd.read_parquet(f)
    old = df.copy()
    df.loc[(df["problem"] == "b/z") & (df["kind"] == "evolved"), "kendall"] = 0.987654
    df.to_parquet(f)
    try:
        _build(results, tmp_path / "r2")
    finally:
        old.to_parquet(f)
    t1 = pd.read_csv(tmp_path / "r1" / "tables" / "per_problem_multi.csv", index_col=0)
    t2 = pd.read_csv(tmp_path / "r2" / "tables" / "per_problem_multi.csv", index_col=0)
    assert t2.loc["b/z", "evolved"] == pytest.approx(0.987654) != t1.loc["b/z", "evolved"]
    assert "**0.988**" in (tmp_path / "r2" / "tables" / "per_problem_multi.md").read_text()


def test_formula_size():
    assert formula_size(["add", "synflow", ["mul", "zen", "nwot"]]) == 5
    assert formula_size("nwot") == 1


def test_cli_report_and_bad_input(results, tmp_path, capsys):
    from evoproxy.cli import main

    out = tmp_path / "cli"
    argv = ["report", "--evaluations", str(results / "evaluation"), "--evolve", str(results / "evolve"),
            "--tables", str(out / "t"), "--figures", str(out / "f"), "--out", str(out / "report.md"),
            "--config-json", json.dumps({"problems": PIDS})]
    assert main(argv) == 0
    assert (out / "report.md").exists() and (out / "t" / "wins_summary.md").exists()
    argv[argv.index("--evaluations") + 1] = str(tmp_path / "nothing")
    assert main(argv) != 0
    assert "no evaluation files" in capsys.readouterr().err
    bad = tmp_path / "bad" / "multi"
    bad.mkdir(parents=True)
    pd.DataFrame({"problem": ["a/x"], "kendall": [np.nan]}).to_parquet(bad / "all.parquet")
    argv[argv.index("--evaluations") + 1] = str(tmp_path / "bad")
    assert main(argv) != 0
    assert "all.parquet: missing columns" in capsys.readouterr().err
