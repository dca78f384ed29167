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
    # every protocol for the recommended and the paper method: multi (1 training set) x 31 seeds each, single
    # (13) x 10 / 31, loso (5) x 10, lopo (13) x 10; one evolve job per training set runs all its seeds
    trainsets = {"multi": 1, "multi_paper": 1, "single": 13, "single_paper": 13, "loso": 5, "loso_paper": 5,
                 "lopo": 13, "lopo_paper": 13}
    seeds = {"multi": 31, "multi_paper": 31, "single": 10, "single_paper": 31, "loso": 10, "loso_paper": 10,
             "lopo": 10, "lopo_paper": 10}
    for block, n in trainsets.items():
        assert jobs[f"evolve_{block}"] == n, block
    # evolve builds each final proxy (no select jobs); one evaluate job per protocol block evaluates its training sets
    assert "select" not in jobs and "evaluate" not in jobs
    assert all(jobs[f"evaluate_{block}"] == 1 for block in trainsets)
    assert jobs["search"] == 6 * 3 and jobs["paper"] == 1  # one job per (objective, dataset) runs its 30 seeds
    # every GP run gets the paper budget, whatever its protocol (the default config's small budgets must not leak),
    # and the *_paper blocks the paper's exact method
    commands = re.findall(r"evoproxy evolve .*?--sr-json '?(\{.*?\})'? .*?--seeds (\S+) --out results/evolve/(\w+)/",
                          proc.stdout)
    assert len(commands) == sum(trainsets.values())
    runs = 0
    for sr, seed_list, block in commands:
        cfg = json.loads(sr)
        assert (cfg["population"], cfg["generations"]) == (100, 50), sr
        assert len(seed_list.split(",")) == seeds[block]
        runs += seeds[block]
        want = ("none", "mean", "best") if block.endswith("_paper") else ("ecdf", "space_mean", "gated")
        assert (cfg["transform"], cfg["aggregate"], cfg["final"]) == want, block
    assert runs == sum(trainsets[b] * seeds[b] for b in trainsets) == 955


def test_paper_config_does_not_inherit_default_values() -> None:
    """Snakemake merges --configfile over config/config.yaml key by key: every value set in the default config
    must be set in paper.yaml too, so the merged paper config equals paper.yaml."""
    from snakemake.utils import update_config

    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    merged = copy.deepcopy(base)
    update_config(merged, paper)
    assert merged == paper
