"""One definition of the GP and split defaults (the config schema), the presets, and the CLI's agreement with the
default config."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import yaml
from test_sr_engine import make_table

from evoproxy.cli import main
from evoproxy.methods import PRESETS, expand_preset
from evoproxy.problems import SplitConfig, save_table, table_filename
from evoproxy.protocols import GENERALISATION, PROTOCOLS
from evoproxy.report import outputs
from evoproxy.schema import defaults, keys
from evoproxy.sr.config import SRConfig

REPO = Path(__file__).resolve().parents[1]


def test_library_defaults_are_the_schemas() -> None:
    assert [f.name for f in fields(SRConfig)] == keys("sr")
    assert SRConfig().to_dict() == defaults("sr")
    assert SplitConfig().to_dict() == defaults("split")
    assert (REPO / "workflow/schemas/config.schema.yaml").resolve() == (REPO / "src/evoproxy/config.schema.yaml")


def test_presets_and_explicit_keys() -> None:
    paper = SRConfig.from_dict({"preset": "paper"})
    assert (paper.transform, paper.aggregate, paper.final, paper.parsimony) == ("none", "mean", "best", 0.0)
    assert paper.metric == "kendall"  # the paper's fitness, whatever the recommended default
    assert SRConfig.from_dict({"preset": "paper", "parsimony": 0.01}).parsimony == 0.01  # explicit keys win
    assert set(PRESETS["paper"]) <= set(keys("sr"))
    assert expand_preset({}) == {}
    rec = SRConfig()
    assert (rec.transform, rec.aggregate, rec.final, rec.metric) == ("ecdf", "space_mean", "gated", "spearman")


def test_generalisation_kinds_agree() -> None:
    assert outputs.GENERALISATION_KINDS == GENERALISATION and set(GENERALISATION) <= set(PROTOCOLS)


def test_cli_without_config_runs_the_default_configs_method(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert cfg["sr"] == {}  # the default config's method is the schema's: what the CLI runs without --config
    d = tmp_path / "data"
    save_table(make_table("nb201", "cifar10", 160, 0), d / table_filename("nb201", "cifar10"))
    for flag, out in (([], "a.json"), (["--config", str(REPO / "config/config.yaml")], "b.json")):
        assert main(["evolve", "--data", str(d), "--population", "10", "--generations", "2", *flag,
                     "--out", str(tmp_path / out)]) == 0
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert a["config"] == b["config"] and a["formula"] == b["formula"]
    assert a["config"]["init_max_depth"] <= 10 and a["size"] < 60  # no 272-node formulas


def test_seeds_in_one_process_equal_separate_runs(tmp_path: Path) -> None:
    d = tmp_path / "data"
    save_table(make_table("nb201", "cifar10", 160, 0), d / table_filename("nb201", "cifar10"))
    common = ["evolve", "--data", str(d), "--population", "10", "--generations", "2"]
    assert main([*common, "--seeds", "0-2", "--out", str(tmp_path / "run_{seed}.json")]) == 0
    assert main([*common, "--seed", "1", "--out", str(tmp_path / "alone.json")]) == 0
    one, alone = (json.loads((tmp_path / f).read_text()) for f in ("run_1.json", "alone.json"))
    assert one["formula"] == alone["formula"] and one["seed"] == 1
    assert sorted(p.name for p in tmp_path.glob("run_*.json")) == ["run_0.json", "run_1.json", "run_2.json"]
    assert main([*common, "--seeds", "0-2", "--out", str(tmp_path / "x.json")]) == 2
