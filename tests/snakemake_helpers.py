"""Run the repository's workflow in a scratch copy of .test/ (config and synthetic data; used by the workflow tests).

The workflow tests run on the shipped synthetic data, so they need neither ../shared nor a network, and give the
same results everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")
DOT_TEST = REPO / ".test"
TEST_MIRROR = DOT_TEST / "data" / "nb-suite-zero"
TEST_IMAGES = DOT_TEST / "data" / "cifar10_synthetic.npz"


def dot_test_workdir(tmp_path: Path, **config: object) -> Path:
    """A copy of .test/ (config/, data/) under ``tmp_path``; keyword arguments replace top-level config keys."""
    work = tmp_path / ".test"
    for sub in ("config", "data"):
        shutil.copytree(DOT_TEST / sub, work / sub)
    if config:
        path = work / "config" / "config.yaml"
        cfg = yaml.safe_load(path.read_text())
        cfg.update(config)
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return work


def workflow_env(**extra: str) -> dict[str, str]:
    """The environment of a workflow run: this venv's `evoproxy` first on PATH, and the config's data paths in
    force (EVOPROXY_MIRROR / EVOPROXY_DATA_FILE removed unless given in ``extra``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EVOPROXY_MIRROR", "EVOPROXY_DATA_FILE")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return {**env, **extra}


def run_snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None, cores: int = 2,
                  timeout: int = 900) -> str:
    """Run the workflow in ``workdir`` (its config/config.yaml); assert success and return the output."""
    cmd = [SNAKEMAKE, "-s", str(SNAKEFILE), "--directory", str(workdir), "--cores", str(cores), *args]
    proc = subprocess.run(cmd, env=env or workflow_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def dry_run_jobs(output: str) -> dict[str, int]:
    """Rule -> job count from a dry run's 'Job stats' table ({} when there is nothing to do)."""
    if "Nothing to be done" in output:
        return {}
    block = output.split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M) if m[1] not in ("total", "job")}
