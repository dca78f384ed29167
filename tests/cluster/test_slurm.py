"""The test workflow runs through profiles/slurm on a real (single-node) SLURM cluster.

Starts munged/slurmctld/slurmd by hand (tests/cluster/slurm_local.py), runs `snakemake --profile profiles/slurm`
on a copy of .test/ (its config and synthetic data: ingest, baselines, extraction of 3 proxies for 8 NB201 nets, one
lookup NAS), then checks the outputs, that every rule job went through SLURM as its own job with the rule's
declared resources (job completion log + squeue), and that the daemons are gone afterwards. Needs no ../shared.

    sudo .venv/bin/pytest tests/cluster -m slow -s      # about 2-3 minutes; .ci/slurm-setup.sh installs SLURM
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.stats import kendalltau

from .slurm_local import LocalSlurm

REPO = Path(__file__).resolve().parents[2]
# the stages of the test workflow exercised on the cluster (each rule job becomes one sbatch job): ingest and
# baselines, proxy extraction (the profile asks a GPU for it; the node's GPU is a count-only GRES without a device,
# so the job gets CUDA_VISIBLE_DEVICES but no CUDA and must fall back to CPU) and one lookup-mode NAS search
EXTRACT_OUT = "results/primitives/nb201__cifar10.parquet"
SEARCH_OUT = "results/nas/nwot/cifar10/seed_0.json"
TARGETS = ["baselines", EXTRACT_OUT, SEARCH_OUT]
GPU_RULES = {"extract"}
RULE_JOBS = ["baselines", "download", "download", "download", "extract", "ingest", "ingest", "ingest_accuracy",
             "search"]
PROBLEMS = {"nb201/cifar10", "nb201/cifar100", "tnb101_micro/class_scene", "tnb101_micro/jigsaw"}

pytestmark = pytest.mark.slow


def _jobcomp(path: Path) -> dict[str, dict[str, str]]:
    """jobcomp/filetxt records: job id -> {field: value}."""
    jobs = {}
    for line in path.read_text().splitlines():
        fields = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


def _slurm_logs(workdir: Path) -> dict[str, tuple[str, dict[str, int]]]:
    """Snakemake's per-job SLURM logs: job id -> (rule, declared resources parsed from the log)."""
    out = {}
    for log in (workdir / ".snakemake" / "slurm_logs").rglob("*.log"):
        rule = next(p for p in log.relative_to(workdir / ".snakemake" / "slurm_logs").parts if p.startswith("rule_"))
        m = re.search(r"^\s+resources: (.*)$", log.read_text(), re.M)
        res = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)(?:,|$)", m.group(1))} if m else {}
        threads = re.search(r"^\s+threads: (\d+)$", log.read_text(), re.M)  # printed only when > 1
        res["threads"] = int(threads.group(1)) if threads else 1
        out[log.stem] = (rule.removeprefix("rule_"), res)
    return out


def test_workflow_runs_through_the_slurm_profile(slurm_cluster: LocalSlurm, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    for sub in ("config", "data"):  # the .test config and its synthetic mirror and images (relative paths)
        shutil.copytree(REPO / ".test" / sub, workdir / sub)
    env = {k: v for k, v in slurm_cluster.env().items() if k not in ("EVOPROXY_MIRROR", "EVOPROXY_DATA_FILE")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `evoproxy` inside the jobs
    cmd = [
        sys.executable, "-m", "snakemake", *TARGETS, "--profile", str(REPO / "profiles" / "slurm"),
        "--snakefile", str(REPO / "workflow" / "Snakefile"), "--directory", str(workdir),
        # site settings of this test cluster: no slurmdbd (squeue, no accounts), local disk, fast polling
        "--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-keep-successful-logs",
        "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5",
    ]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    wall = time.monotonic() - t0
    print(f"\nsnakemake --profile profiles/slurm ({', '.join(TARGETS)}): {wall:.1f} s wall")
    assert proc.returncode == 0, f"snakemake failed:\n{proc.stderr[-6000:]}"
    assert "Using profile" in proc.stderr and "profiles/slurm" in proc.stderr

    # outputs: the baseline table over every problem; jacov on nb201/cifar10 as computed here from the release file
    results = workdir / "results"
    table = pd.read_parquet(results / "baselines.parquet")
    assert set(table["problem"]) == PROBLEMS
    jacov = table[(table["problem"] == "nb201/cifar10") & (table["proxy"] == "jacov")].iloc[0]
    records = json.loads((workdir / "data/nb-suite-zero/zc_nasbench201.json").read_text())["cifar10"].values()
    score, acc = (np.array([r["jacov"]["score"] for r in records]), np.array([r["val_accuracy"] for r in records]))
    assert jacov["n"] == len(acc) == 800
    assert jacov["kendall"] == pytest.approx(kendalltau(score, acc).statistic, abs=1e-12)
    assert (results / "tables" / "baselines.md").stat().st_size > 0
    assert (results / "timings" / "baselines.tsv").exists()
    prim = pq.read_table(workdir / EXTRACT_OUT)
    meta = {k.decode(): json.loads(v) for k, v in prim.schema.metadata.items() if k.startswith(b"evoproxy.")}
    assert prim.num_rows == 8 and meta["evoproxy.device"] == "cpu"  # ran in a GPU allocation without CUDA
    assert meta["evoproxy.computed_proxies"] == ["nwot", "synflow", "params"]
    frame = prim.to_pandas()
    assert frame[["nwot", "synflow", "params"]].notna().all().all()
    # progress of the long step reaches the job log as plain lines (no terminal in a batch job)
    extract_log = (results / "logs" / "extract" / "nb201__cifar10.log").read_text()
    assert "8/8" in extract_log and "\x1b[" not in extract_log
    search = json.loads((workdir / SEARCH_OUT).read_text())
    assert (search["mode"], search["evaluations"], search["status"]) == ("lookup", 50, "budget_evals")

    # every rule job went through SLURM: one completed job each, in the job completion log and in squeue
    logs = _slurm_logs(workdir)
    rules = sorted(rule for rule, _ in logs.values())
    assert rules == RULE_JOBS, rules
    comp = _jobcomp(slurm_cluster.jobcomp_log)
    assert set(logs) <= set(comp), f"jobs missing from the completion log: {set(logs) - set(comp)}"
    run_names = {comp[j]["Name"] for j in logs}
    assert len(run_names) == 1, f"jobs of one snakemake run carry one run id as job name, got {run_names}"
    for job_id, (rule, declared) in logs.items():
        rec = comp[job_id]
        assert rec["JobState"] == "COMPLETED" and rec["ExitCode"] == "0:0", (rule, rec)
        assert rec["Partition"] == slurm_cluster.partition
        # the rule's resources reached sbatch: runtime -> --time (minutes), mem_mb -> --mem, threads -> cpus
        assert int(rec["TimeLimit"]) == declared["runtime"], (rule, rec["TimeLimit"], declared)
        assert f"mem={declared['mem_mb']}M" in rec["Tres"], (rule, rec["Tres"], declared)
        assert f"cpu={declared['threads']}," in rec["Tres"] + ",", (rule, rec["Tres"], declared)
        # GPU requests of the profile (set-resources) reach SLURM for the GPU rules only
        show = subprocess.run(["scontrol", "show", "job", job_id], env=env, capture_output=True, text=True,
                              check=True).stdout
        wants_gpu = "TresPerJob=gres:gpu:1" in show
        assert wants_gpu == (rule in GPU_RULES), (rule, show)
    squeue = subprocess.run(["squeue", "--states=all", "--noheader", "--format=%i|%T", "--name", run_names.pop()],
                            env=env, capture_output=True, text=True, check=True).stdout
    states = dict(line.split("|") for line in squeue.split())
    assert {j: states.get(j) for j in logs} == {j: "COMPLETED" for j in logs}

    # the daemons this test started are stopped again, and the default config link is gone
    slurm_cluster.stop()
    assert not any(slurm_cluster.running().values())
    assert not (slurm_cluster.system_conf and slurm_cluster.system_conf.is_symlink())
