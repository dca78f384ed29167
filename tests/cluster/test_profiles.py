"""Fast checks of the execution profiles, the .test config and the rule resource declarations (no cluster needed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))


def _profile(name: str) -> dict:
    return yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())


def _rule_blocks() -> dict[str, tuple[str, str]]:
    """rule name -> (file name, rule body) for every `rule`/`checkpoint` in workflow/rules/*.smk."""
    blocks = {}
    for f in RULE_FILES:
        text = f.read_text()
        heads = list(re.finditer(r"^(?:rule|checkpoint) (\w+):\n", text, re.M))
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[m.end():end]
            # the rule ends at the first non-indented line
            body = body[: re.search(r"^\S", body, re.M).start()] if re.search(r"^\S", body, re.M) else body
            blocks[m.group(1)] = (f.name, body)
    return blocks


def test_profiles_have_the_documented_settings() -> None:
    local, slurm = _profile("local"), _profile("slurm")
    for prof in (local, slurm):
        assert prof["keep-going"] is True and prof["rerun-incomplete"] is True and prof["printshellcmds"] is True
        assert {"mem_mb", "runtime"} <= set(prof["default-resources"])
    assert local["cores"] == "all"
    assert slurm["executor"] == "slurm" and slurm["jobs"] >= 1 and slurm["retries"] >= 1


def test_profile_gpu_rules_exist_in_the_workflow() -> None:
    """set-resources must name real rules (Snakemake silently ignores unknown names)."""
    rules = _rule_blocks()
    for rule, res in _profile("slurm").get("set-resources", {}).items():
        assert rule in rules, f"profiles/slurm set-resources names {rule!r}, which no rule file defines"
        assert set(res) <= {"gpu", "gpu_model", "slurm_extra", "slurm_partition", "cpus_per_task", "mem_mb",
                            "runtime", "constraint", "qos"}, res


def test_every_rule_declares_threads_and_resources() -> None:
    """Cluster scheduling needs threads, mem_mb and runtime on every rule that runs something."""
    missing = []
    for rule, (fname, body) in _rule_blocks().items():
        if not re.search(r"^\s+(shell|run|script|notebook|wrapper):", body, re.M):
            continue  # aggregation rules run nothing and are never submitted
        lacks = [k for k, pat in (("threads", r"^\s+threads:"), ("mem_mb", r"\bmem_mb\s*="),
                                  ("runtime", r"\bruntime\s*=")) if not re.search(pat, body, re.M)]
        if lacks:
            missing.append(f"{fname}:{rule} lacks {', '.join(lacks)}")
    assert not missing, "; ".join(missing)


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_test_workflow_dry_runs_with_profile(profile: str, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "baselines", "-n", "--profile", str(REPO / "profiles" / profile),
         "--snakefile", str(REPO / "workflow" / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(REPO / ".test" / "config" / "config.yaml")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    # the .test config: four problems from two spaces, one download and one ingest per space file, one baseline table
    assert (counts.get("download"), counts.get("ingest"), counts.get("baselines")) == ("2", "2", "1"), counts

