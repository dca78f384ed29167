"""`make paper` plans the paper's budgets: its recipe, dry-run as written, gives 31 GP runs per training set."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from snakemake_helpers import REPO, SNAKEMAKE, dry_run_jobs


def test_make_paper_recipe_plans_the_paper_budget(tmp_path: Path) -> None:
    recipe = re.search(r"^paper:.*\n\t(.+)$", (REPO / "Makefile").read_text(), re.M)
    assert recipe, "Makefile has no paper target"
    args = recipe[1].replace("$(BIN)/snakemake", SNAKEMAKE).replace("$(CORES)", "2").replace("$(SNAKEMAKE_ARGS)", "")
    # the recipe as written (target first: --configfile takes several files and would swallow a later target)
    # in a scratch workdir that, like the repository, holds config/config.yaml: Snakemake loads the Snakefile's
    # default configfile from the workdir and merges --configfile over it (it silently skips a missing default)
    shutil.copytree(REPO / "config", tmp_path / "config")
    cmd = [*args.split(), "-n", "-p", "--directory", str(tmp_path)]  # Snakefile found from the repository root
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = dry_run_jobs(proc.stdout + proc.stderr)
    # 19 training sets (1 multi + 13 single + 5 leave-one-space-out) x 31 seeds; NAS: 5 objectives x 3 datasets x 30
    assert jobs["evolve"] == 19 * 31 and jobs["select"] == 19 and jobs["evaluate"] == 19
    assert jobs["search"] == 5 * 3 * 30 and jobs["paper"] == 1
    # every GP run gets the paper budget, whatever its protocol (the default config's small budgets must not leak)
    budgets = re.findall(r"evoproxy evolve .*?--sr-json '?(\{.*?\})'? --", proc.stdout)
    assert len(budgets) == 19 * 31
    for sr in budgets:
        cfg = json.loads(sr)
        assert (cfg["population"], cfg["generations"]) == (100, 50), sr


def test_paper_config_does_not_inherit_default_values() -> None:
    """Snakemake merges --configfile over config/config.yaml key by key: every value set in the default config
    must be set in paper.yaml too, so the merged paper config equals paper.yaml."""
    from snakemake.utils import update_config

    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    merged = copy.deepcopy(base)
    update_config(merged, paper)
    assert merged == paper
