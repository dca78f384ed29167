"""The conda env files (workflow/envs/) stay in sync with pyproject.toml and with the versions the tests run with.

conda is not available in CI, so the envs are checked statically here: same packages as pyproject, every pin
satisfying pyproject's specifier, and the post-deploy script that installs evoproxy itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
ENVS = REPO / "workflow" / "envs"


def _pyproject() -> dict:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _requirements(specs: list[str]) -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, specs)}


def _env(name: str) -> dict:
    return yaml.safe_load((ENVS / name).read_text())


def _pip_pins(env: dict) -> dict[str, Version]:
    """Pinned pip packages of an env file; fails on anything that is not `name==version`."""
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for line in pip:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{line!r}: pin an exact version (name==X.Y.Z)"
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins


def _conda_python(env: dict) -> str:
    for d in env["dependencies"]:
        if isinstance(d, str) and d.startswith("python"):
            m = re.fullmatch(r"python\s*=+\s*([\d.]+)", d)
            assert m, f"python must be pinned (python=3.X), got {d!r}"
            return m.group(1)
    raise AssertionError("no python in the env's conda dependencies")


def test_rule_env_lists_exactly_the_pyproject_dependencies() -> None:
    deps = _requirements(_pyproject()["dependencies"])
    pins = _pip_pins(_env("evoproxy.yaml"))
    assert set(pins) == set(deps), (
        f"workflow/envs/evoproxy.yaml vs pyproject: missing {sorted(set(deps) - set(pins))}, "
        f"extra {sorted(set(pins) - set(deps))}"
    )
    for name, req in deps.items():
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"workflow/envs/evoproxy.yaml pins {name}=={pins[name]}, pyproject requires {req.specifier}"
        )


def test_env_pythons_satisfy_requires_python() -> None:
    requires = SpecifierSet(_pyproject()["requires-python"])
    for name in ("evoproxy.yaml", "snakemake.yaml"):
        py = _conda_python(_env(name))
        assert requires.contains(Version(py)), f"workflow/envs/{name}: python {py} violates requires-python {requires}"


def test_driver_env_pins_snakemake_and_the_cluster_extra() -> None:
    project = _pyproject()
    pins = _pip_pins(_env("snakemake.yaml"))
    wanted = _requirements(project["dependencies"])["snakemake"], *_requirements(
        project["optional-dependencies"]["cluster"]).values()
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"workflow/envs/snakemake.yaml lacks {name}"
        assert req.specifier.contains(pins[name]), f"workflow/envs/snakemake.yaml: {name}=={pins[name]} violates {req}"
    # driver and rule envs agree on the Snakemake version (the job step runs the rule env's snakemake on a cluster)
    assert pins["snakemake"] == _pip_pins(_env("evoproxy.yaml"))["snakemake"]


@pytest.mark.parametrize("env_file", ["evoproxy.yaml", "snakemake.yaml"])
def test_pins_are_the_versions_tested_here(env_file: str) -> None:
    """The pins are what this test environment runs; upgrading the venv means updating workflow/envs/ too."""
    stale = {}
    for name, pinned in _pip_pins(_env(env_file)).items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            if env_file == "snakemake.yaml":  # the cluster extra may be absent from a dev venv
                continue
            raise
        if Version(installed.base_version) != pinned:  # torch reports 2.13.0+cpu
            stale[name] = f"pinned {pinned}, installed {installed}"
    assert not stale, f"workflow/envs/{env_file} out of date: {stale}"


def test_rules_point_at_the_env_that_exists() -> None:
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    m = re.search(r'^ENV\s*=\s*"([^"]+)"', common, re.M)
    assert m, "workflow/rules/common.smk defines no ENV"
    # conda: paths are relative to the including rule file (workflow/rules/)
    assert (REPO / "workflow" / "rules" / m.group(1)).resolve() == ENVS / "evoproxy.yaml"


def _fake_python(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A PATH on which `python` only records its arguments (to run the post-deploy script without conda)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "args.txt"
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "EVOPROXY_SRC"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env, record


def test_post_deploy_installs_the_working_tree(tmp_path: Path) -> None:
    script = ENVS / "evoproxy.post-deploy.sh"
    env, record = _fake_python(tmp_path)
    proc = subprocess.run(["bash", str(script)], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().split() == ["-m", "pip", "install", "--no-deps", "-e", str(REPO)]
    # EVOPROXY_SRC: snakemake run with --directory elsewhere
    env["EVOPROXY_SRC"] = str(REPO)
    proc = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and record.read_text().split()[-1] == str(REPO)


def test_post_deploy_refuses_a_folder_that_is_not_the_project(tmp_path: Path) -> None:
    env, record = _fake_python(tmp_path)
    proc = subprocess.run(["bash", str(ENVS / "evoproxy.post-deploy.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "not the evoproxy project" in proc.stderr and "EVOPROXY_SRC" in proc.stderr
    assert not record.exists()

