"""Fixtures for the SLURM cluster tests: a private single-node cluster (see slurm_local.py), or a clear skip."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .slurm_local import SYSTEM_CONF, LocalSlurm, SlurmError, missing_binaries

REPO = Path(__file__).resolve().parents[2]


def _install_slurm() -> str | None:
    """apt-get install slurm-wlm munge (root only); returns why it could not, or None when installed."""
    if shutil.which("apt-get") is None:
        return "apt-get is unavailable: install slurm-wlm and munge by hand (see .ci/slurm-setup.sh)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"]):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        except subprocess.TimeoutExpired:
            return f"{' '.join(cmd)} timed out"
        if proc.returncode != 0:
            return f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}"
    missing = missing_binaries()
    return f"still missing after apt-get: {', '.join(missing)}" if missing else None


def cluster_skip_reason() -> str | None:
    """Why the cluster test cannot run here (None: it can). Installs slurm-wlm/munge with apt when root."""
    if os.geteuid() != 0:
        return "needs root to start munged/slurmctld/slurmd (run as root, e.g. in CI)"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm not installed: pip install -e '.[cluster]'"
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.is_symlink():
        return f"{SYSTEM_CONF} exists (a real SLURM installation): not starting a private cluster beside it"
    if missing_binaries():
        return _install_slurm()
    return None


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    """A running one-node cluster (partition `debug`, this machine's CPUs, one count-only GPU GRES so GPU jobs
    schedule without a GPU); stopped after the module."""
    reason = cluster_skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"), gpus=1)
    try:
        cluster.start()
    except SlurmError as e:
        pytest.fail(f"local SLURM cluster did not start: {e}")
    try:
        yield cluster
    finally:
        cluster.stop()
