"""The Snakemake data stages on the real mirror: outputs, no work on re-run, and minimal re-runs after a touch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from snakemake_helpers import REPO, SNAKEMAKE, dry_run_jobs, run_snakemake


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_data_stages_cache_and_rerun_minimally(mirror_dir: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["problems"] = ["nb101/cifar10", "nb201/cifar100", "tnb101_micro/jigsaw"]
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    run_snakemake(work, config, "baselines", mirror=mirror_dir)
    md = (work / "results" / "tables" / "baselines.md").read_text()
    for pid in cfg["problems"]:
        assert f"| {pid} |" in md
    assert (work / "resources" / "nb-suite-zero" / "PROVENANCE.json").exists()

    assert dry_run_jobs(run_snakemake(work, config, "-n", "baselines", mirror=mirror_dir)) == {}  # re-run: no work

    raw = work / "resources" / "nb-suite-zero" / "zc_nasbench101.json"
    os.utime(raw)  # a touch without a content change: Snakemake compares checksums, so nothing re-runs
    assert dry_run_jobs(run_snakemake(work, config, "-n", "baselines", mirror=mirror_dir)) == {}

    data = json.loads(raw.read_text())  # a real change to one input: only what depends on it re-runs
    first = next(iter(data["cifar10"].values()))
    first["val_accuracy"] += 0.5
    raw.write_text(json.dumps(data))
    jobs = dry_run_jobs(run_snakemake(work, config, "-n", "baselines", mirror=mirror_dir))
    assert jobs == {"ingest": 1, "baselines": 1}
