"""The Snakemake 'extract' rule end to end (2 NB201 nets on real images) and the fill_missing wiring (dry run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evoproxy.problems import load_table

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")
pytestmark = [pytest.mark.integration, pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")]


def _run(work: Path, config: Path, env: dict, *args: str) -> str:
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(work), "--configfile", str(config),
           "--cores", "1", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_extract_rule_and_fill_wiring(tmp_path, cifar_npz, mirror_dir):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["extract"].update({"enabled": True, "targets": [{"space": "nb201", "dataset": "cifar10", "archs": "2"}],
                           "proxies": "params,nwot", "batch_size": 8, "device": "cpu", "threads": 1})
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "EVOPROXY_DATA_FILE": str(cifar_npz), "EVOPROXY_MIRROR": str(mirror_dir),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    target = "results/primitives/nb201__cifar10.parquet"
    _run(work, config, env, target)
    t = load_table(work / target, require_target=False)
    assert t.n == 2 and t.meta["computed_proxies"] == ["params", "nwot"] and t.meta["batch_size"] == 8
    assert (work / "results/benchmarks/extract/nb201__cifar10.tsv").exists()
    assert "Nothing to be done" in _run(work, config, env, "-n", target)

    out = _run(work, config, env, "-n", "-p", "results/data_filled/nb101__cifar10.parquet")
    jobs = {m[1] for m in re.finditer(r"^(\w+)\s+\d+$", out.split("Job stats:", 1)[1], re.M)}
    assert {"extract_for_fill", "fill_missing", "ingest"} <= jobs
    assert "--archs results/data/nb101__cifar10.parquet" in out and "--proxies nwot,zen" in out
    assert f"--data-file {cifar_npz}" in out
