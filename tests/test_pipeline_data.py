"""The Snakemake data stages on the real mirror: outputs, no work on re-run, and minimal re-runs after a touch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")


def _snakemake(workdir: Path, config: Path, *args: str, mirror: Path) -> str:
    env = {**os.environ, "EVOPROXY_MIRROR": str(mirror),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--configfile", str(config),
           "--cores", "2", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _jobs(output: str) -> dict[str, int]:
    """Rule -> count from a dry run's 'Job stats' table."""
    if "Nothing to be done" in output:
        return {}
    block = output.split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M) if m[1] not in ("total", "job")}


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_data_stages_cache_and_rerun_minimally(mirror_dir: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["problems"] = ["nb101/cifar10", "nb201/cifar100", "tnb101_micro/jigsaw"]
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    _snakemake(work, config, "baselines", mirror=mirror_dir)
    md = (work / "results" / "tables" / "baselines.md").read_text()
    for pid in cfg["problems"]:
        assert f"| {pid} |" in md
    assert (work / "resources" / "nb-suite-zero" / "PROVENANCE.json").exists()

    assert _jobs(_snakemake(work, config, "-n", "baselines", mirror=mirror_dir)) == {}  # re-run: no work

    raw = work / "resources" / "nb-suite-zero" / "zc_nasbench101.json"
    os.utime(raw)  # a touch without a content change: Snakemake compares checksums, so nothing re-runs
    assert _jobs(_snakemake(work, config, "-n", "baselines", mirror=mirror_dir)) == {}

    data = json.loads(raw.read_text())  # a real change to one input: only what depends on it re-runs
    first = next(iter(data["cifar10"].values()))
    first["val_accuracy"] += 0.5
    raw.write_text(json.dumps(data))
    jobs = _jobs(_snakemake(work, config, "-n", "baselines", mirror=mirror_dir))
    assert jobs == {"ingest": 1, "baselines": 1}
