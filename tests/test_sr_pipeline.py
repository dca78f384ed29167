"""The evolve / select / score Snakemake rules on the synthetic .test data: DAG per protocol and a real multi run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from snakemake_helpers import SNAKEMAKE, dot_test_workdir, dry_run_jobs, run_snakemake

PROBLEMS = ["nb201/cifar10", "nb201/cifar100", "tnb101_micro/jigsaw"]


@pytest.mark.slow
@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_evolve_rules_dag_and_multi_run(tmp_path: Path) -> None:
    work = dot_test_workdir(
        tmp_path, problems=PROBLEMS,
        sr={"population": 12, "generations": 2, "init_max_depth": 3},
        protocols={"multi": {"enabled": True, "runs": 2}, "single": {"enabled": True, "runs": 1},
                   "loso": {"enabled": True, "seeds": [7]}})
    scores = [f"results/scores/{p}" for p in (
        "multi/all.parquet", "single/nb201__cifar10.parquet", "single/nb201__cifar100.parquet",
        "single/tnb101_micro__jigsaw.parquet", "loso/no_nb201.parquet", "loso/no_tnb101_micro.parquet")]
    jobs = dry_run_jobs(run_snakemake(work, "-n", *scores))
    # one evolve job per training set runs all its seeds and builds their final proxy
    assert (jobs["evolve_multi"], jobs["evolve_single"], jobs["evolve_loso"]) == (1, 3, 2)
    assert "select" not in jobs and jobs["score"] == 6

    run_snakemake(work, "results/scores/multi/all.parquet", "results/evolve/loso/no_nb201/run_7.json")
    best = json.loads((work / "results/evolve/multi/all/best.json").read_text())
    assert best["trainset"] == PROBLEMS and best["config"]["population"] == 12
    assert best["split"] == {"n_train": 100, "max_train_fraction": 0.5, "seed": 0}
    assert {r["seed"] for r in best["selected_from"]} == {0, 1} and best["kind"] == "gated"
    df = pd.read_parquet(work / "results/scores/multi/all.parquet")
    assert list(df["problem"]) == PROBLEMS and (df["split"] == "test").all()
    assert list(df["n"]) == [800 - 100, 400 - 100, 400 - 100]  # every arch outside the 100-arch train split
    loso = json.loads((work / "results/evolve/loso/no_nb201/run_7.json").read_text())
    assert loso["trainset"] == ["tnb101_micro/jigsaw"] and loso["seed"] == 7
    assert (work / "results/timings/evolve/multi/all.tsv").exists()
