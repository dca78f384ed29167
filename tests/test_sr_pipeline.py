"""The evolve / select / score Snakemake rules on the real mirror: DAG per protocol and a real multi run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake_helpers import REPO, SNAKEMAKE, dry_run_jobs, run_snakemake

PROBLEMS = ["nb101/cifar10", "nb201/cifar100", "nb301/cifar10"]






@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_evolve_rules_dag_and_multi_run(mirror_dir: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["problems"] = PROBLEMS
    cfg["sr"].update({"population": 12, "generations": 2, "init_max_depth": 3})
    cfg["protocols"] = {"multi": {"enabled": True, "runs": 2}, "single": {"enabled": True, "runs": 1},
                        "loso": {"enabled": True, "seeds": [7]}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    scores = [f"results/scores/{p}" for p in (
        "multi/all.parquet", "single/nb101__cifar10.parquet", "single/nb201__cifar100.parquet",
        "single/nb301__cifar10.parquet", "loso/no_nb101.parquet", "loso/no_nb201.parquet", "loso/no_nb301.parquet")]
    jobs = dry_run_jobs(run_snakemake(work, config, "-n", *scores, mirror=mirror_dir))
    assert jobs["evolve"] == 2 + 3 + 3 and jobs["select"] == 7 and jobs["score"] == 7

    run_snakemake(work, config, "results/scores/multi/all.parquet", "results/evolve/loso/no_nb201/run_7.json",
               mirror=mirror_dir)
    best = json.loads((work / "results/evolve/multi/all/best.json").read_text())
    assert best["trainset"] == PROBLEMS and best["config"]["population"] == 12
    assert best["split"] == {"n_train": 1000, "max_train_fraction": 0.5, "seed": 0}
    assert {r["seed"] for r in best["selected_from"]} == {0, 1}
    df = pd.read_parquet(work / "results/scores/multi/all.parquet")
    assert list(df["problem"]) == PROBLEMS and (df["split"] == "test").all() and (df["n"] > 0).all()
    loso = json.loads((work / "results/evolve/loso/no_nb201/run_7.json").read_text())
    assert loso["trainset"] == ["nb101/cifar10", "nb301/cifar10"] and loso["seed"] == 7
    assert (work / "results/benchmarks/evolve/multi/all/run_0.tsv").exists()
