"""The Snakemake 'extract' rule end to end (2 NB201 nets on the synthetic .test images) and the fill wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
from snakemake_helpers import (
    SNAKEMAKE,
    TEST_IMAGES,
    dot_test_workdir,
    dry_run_jobs,
    run_snakemake,
    workflow_env,
)

from evoproxy.problems import load_table

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")


def test_extract_rule_and_fill_wiring(tmp_path: Path) -> None:
    work = dot_test_workdir(tmp_path, extract={
        "enabled": True, "targets": [{"space": "nb201", "dataset": "cifar10", "archs": "2"}],
        "proxies": "params,nwot", "batch_size": 8, "device": "cpu", "threads": 1,
        "data_file": "data/cifar10_synthetic.npz",
        "fill_missing": {"problems": ["nb201/cifar100"], "proxies": "nwot,zen"}})
    target = "results/primitives/nb201__cifar10.parquet"
    run_snakemake(work, target, cores=1)
    t = load_table(work / target, require_target=False)
    assert t.n == 2 and t.meta["computed_proxies"] == ["params", "nwot"] and t.meta["batch_size"] == 8
    assert t.df[["params", "nwot"]].notna().all().all()
    assert (work / "results/timings/extract/nb201__cifar10.tsv").exists()
    assert "Nothing to be done" in run_snakemake(work, "-n", target)

    # the same rule under fill/: the archs of the ingested table and the fill proxies; EVOPROXY_DATA_FILE wins
    env = workflow_env(EVOPROXY_DATA_FILE=str(TEST_IMAGES))
    out = run_snakemake(work, "-n", "-p", "results/data_filled/nb201__cifar100.parquet", env=env)
    assert dry_run_jobs(out) == {"download": 1, "ingest": 1, "extract": 1, "fill_missing": 1}
    assert "--archs results/data/nb201__cifar100.parquet --proxies nwot,zen" in out
    assert "--out results/primitives/fill/nb201__cifar100.parquet" in out
    assert f"--data-file {TEST_IMAGES}" in out
