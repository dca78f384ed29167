"""The Snakemake data stages on the synthetic .test data: outputs, values, no work on re-run, minimal re-runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from snakemake_helpers import SNAKEMAKE, dot_test_workdir, dry_run_jobs, run_snakemake

PROBLEMS = ["nb201/cifar100", "tnb101_micro/jigsaw"]


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_data_stages_cache_and_rerun_minimally(tmp_path: Path) -> None:
    work = dot_test_workdir(tmp_path, problems=PROBLEMS)
    run_snakemake(work, "baselines")
    md = (work / "results" / "tables" / "baselines.md").read_text()
    for pid in PROBLEMS:
        assert f"| {pid} |" in md
    assert (work / "resources" / "nb-suite-zero" / "PROVENANCE.json").exists()
    assert (work / "results" / "timings" / "baselines.tsv").exists()

    # the baseline of a proxy equals Kendall's tau computed here from the release file itself
    raw = work / "resources" / "nb-suite-zero" / "zc_transbench101_micro.json"
    records = json.loads(raw.read_text())["jigsaw"].values()
    nwot = np.array([r["nwot"]["score"] for r in records])
    acc = np.array([r["val_accuracy"] for r in records])
    table = pd.read_parquet(work / "results" / "baselines.parquet").set_index(["problem", "proxy"])
    row = table.loc[("tnb101_micro/jigsaw", "nwot")]
    assert row["n"] == len(acc) == 400
    assert row["kendall"] == pytest.approx(kendalltau(nwot, acc).statistic, abs=1e-12)

    assert dry_run_jobs(run_snakemake(work, "-n", "baselines")) == {}  # re-run: no work

    os.utime(raw)  # a touch without a content change: Snakemake compares checksums, so nothing re-runs
    assert dry_run_jobs(run_snakemake(work, "-n", "baselines")) == {}

    data = json.loads(raw.read_text())  # a real change to one input: only what depends on it re-runs
    first = next(iter(data["jigsaw"].values()))
    first["val_accuracy"] += 0.5
    raw.write_text(json.dumps(data))
    jobs = dry_run_jobs(run_snakemake(work, "-n", "baselines"))
    assert jobs == {"ingest": 1, "baselines": 1}
