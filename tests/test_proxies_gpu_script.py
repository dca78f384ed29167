"""benchmarks/gpu_check.sh: valid bash, clear refusals, and (slow) its Python steps run end to end on the CPU."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"


def _run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHON": sys.executable, **(env or {})}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=full, timeout=timeout,
                          cwd=REPO)


def test_script_is_valid_bash():
    r = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_bad_argument_and_help():
    r = _run("--bogus")
    assert r.returncode == 2 and "unknown argument '--bogus'" in r.stderr
    h = _run("--help")
    assert h.returncode == 0 and "--smoke" in h.stdout and "180" in h.stdout


def test_missing_data_is_named(tmp_path):
    r = _run("--out", str(tmp_path / "o"), env={"EVOPROXY_SHARED": str(tmp_path / "nowhere")})
    assert r.returncode == 2
    assert "cifar10_subset_uint8.npz not found" in r.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_refuses_to_run_without_cuda(tmp_path, cifar_npz):
    r = _run("--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "CUDA is not available" in r.stderr and "--smoke" in r.stderr
    assert not (tmp_path / "o" / "extract.md").exists()


@pytest.mark.slow
def test_smoke_mode_runs_every_step_on_cpu(tmp_path, cifar_npz, mirror_dir):
    out = tmp_path / "o"
    r = _run("--smoke", "--out", str(out), timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    summary = (out / "summary.md").read_text()
    m = re.search(r"extraction, 1 process: median ([0-9.]+) s / net, worst [0-9.]+ \(13 proxies, batch 8,", summary)
    assert m and float(m.group(1)) > 0
    assert re.search(r"extraction, 2 processes: aggregate [0-9.]+ s / net", summary)
    assert re.search(r"minibatch [0-9.]+ [0-9.]+ [0-9.]+", summary)  # GFLOP, s, GFLOP/s of the shared pass
    m = re.search(r"online NAS, objective nwot, 5 s budget, seed 0 \(n = 1\): (\d+) evaluations", summary)
    assert m and int(m.group(1)) >= 1
    assert re.search(r"cifar10 valid [0-9.]+% \(rank \d+ of 15625\); top 1% \(>= 90.97\): (met|not met)", summary)
