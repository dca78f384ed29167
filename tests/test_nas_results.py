"""Ground truth for reporting (rank, percentile, optimum), result files, and the NAS table/figure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evoproxy.nas.evolution import Budget, SearchResult
from evoproxy.nas.results import (
    GroundTruth,
    build_record,
    encodings_of,
    load_ground_truth,
    load_result,
    write_result,
)
from evoproxy.nas.table import collect, summarize, to_latex, to_markdown, write_table


def test_ground_truth_rank_percentile_and_ties():
    gt = GroundTruth("x", "acc", "valid", {"a": 90.0, "b": 80.0, "c": 80.0, "d": 70.0, "e": float("nan")})
    assert gt.n == 4 and gt.optimum == 90.0 and gt.optimum_arch == "a"
    r = gt.report("a")
    assert r["rank"] == 1 and r["top_percent"] == 25.0 and r["percentile"] == 75.0 and r["regret"] == 0.0
    r = gt.report("c")
    assert r["rank"] == 2 and r["percentile"] == 25.0  # ties share the better rank
    assert gt.report("d")["rank"] == 4
    assert gt.report("zz")["accuracy"] is None and gt.report(None)["rank"] is None


def test_encodings_of_nb201():
    enc = encodings_of("nb201", "(2, 2, 3, 0, 4, 1)")
    assert enc["cell"] == "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"
    assert encodings_of("nb101", None) == {"arch": None}


@pytest.fixture(scope="module")
def nb201_dir(mirror_dir, tmp_path_factory):
    from evoproxy.release.ingest import ingest

    out = tmp_path_factory.mktemp("nb201")
    ingest(mirror_dir, out, spaces=["nb201"])
    return out


def test_ground_truth_from_real_accuracy_table(nb201_dir):
    gt = load_ground_truth(nb201_dir, "nb201", "cifar10")
    assert gt.n == 15625 and gt.metric == "cifar10_valid_acc_mean" and gt.split == "valid"
    assert gt.optimum == pytest.approx(91.6067, abs=1e-3)
    top1 = gt.report(gt.optimum_arch)
    assert top1["rank"] == 1
    # the top 1% of cells by cifar10 valid accuracy starts at 90.97% (the target)
    thr = np.sort(np.array(list(gt.acc.values())))[::-1][int(0.01 * 15625) - 1]
    assert thr == pytest.approx(90.97, abs=0.01)
    gt100 = load_ground_truth(nb201_dir, "nb201", "cifar100")
    assert gt100.split == "valtest" and gt100.optimum == pytest.approx(73.50, abs=0.01)
    with pytest.raises(ValueError, match="no accuracy for dataset 'svhn'"):
        load_ground_truth(nb201_dir, "nb201", "svhn")


def _result(seed: int, arch: str, wall: float) -> SearchResult:
    r = SearchResult(algorithm="aging", params={"population": 20}, seed=seed, budget=Budget(evals=10))
    r.status, r.best_arch, r.best_score, r.best_eval = "budget_evals", arch, 1.5, 3
    r.history_arch, r.history_score, r.history_seconds = [arch] * 10, [1.5] * 10, [0.1] * 10
    r.wall_seconds, r.objective_seconds, r.evaluations = wall, wall / 2, 10
    return r


def test_result_file_roundtrip_and_table(tmp_path):
    gt = GroundTruth("acc.parquet", "cifar10_valid_acc_mean", "valid",
                     {"(0, 0, 0, 0, 0, 0)": 60.0, "(2, 2, 2, 2, 2, 2)": 90.0, "(3, 3, 3, 3, 3, 3)": 80.0,
                      "(4, 4, 4, 4, 4, 4)": 70.0})
    paths = []
    for obj, arches in {"nwot": ["(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)"],
                        "random": ["(0, 0, 0, 0, 0, 0)", "(4, 4, 4, 4, 4, 4)"]}.items():
        for seed, arch in enumerate(arches):
            rec = build_record(_result(seed, arch, 2.0 + seed), space="nb201", dataset="cifar10", mode="lookup",
                               objective={"name": obj}, truth=gt)
            paths.append(write_result(tmp_path / obj / "cifar10" / f"seed_{seed}.json", rec))
    rec = load_result(paths[0])
    assert rec["best"]["cell"].startswith("|nor_conv_3x3~0|") and rec["truth"]["rank"] == 1
    assert rec["evaluations"] == 10 and rec["overhead_seconds"] == pytest.approx(1.0)
    df = collect(paths)
    s = summarize(df)
    row = s[s["objective"] == "nwot"].iloc[0]
    assert row["acc_mean"] == 85.0 and row["acc_std"] == pytest.approx(np.std([90, 80], ddof=1))
    assert row["time_mean"] == 2.5 and row["optimum"] == 90.0 and row["seeds"] == 2
    assert list(s["objective"]) == ["nwot", "random"]
    md = to_markdown(s)
    assert "85.00 ± 7.07" in md and "benchmark optimum (of 4 cells)" in md and "cifar10 (valid)" in md
    assert "*test* accuracy" in md
    assert r"$\pm$" in to_latex(s)
    out = tmp_path / "t"
    write_table(paths, out / "nas.csv", out / "nas.md", out / "nas.tex", out / "nas.png", out / "runs.csv")
    assert (out / "nas.png").stat().st_size > 1000 and (out / "nas.md").read_text() == md
    assert len((out / "runs.csv").read_text().splitlines()) == 5


def test_load_result_rejects_other_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"space": "nb201"}))
    with pytest.raises(ValueError, match="missing field 'dataset'"):
        load_result(p)
    p.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_result(p)
