"""evolve / select / score CLI on generated problem tables, bad input, and the real mirror (integration)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_sr_engine import make_table

from evoproxy.cli import main
from evoproxy.metrics import kendall
from evoproxy.problems import load_problem, save_table, split, table_filename
from evoproxy.sr.formula import load_formula


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "data"
    for space, task, n, seed in (("nb201", "cifar10", 160, 0), ("nb101", "cifar10", 100, 1), ("nb301", "cifar10", 80, 2)):
        save_table(make_table(space, task, n, seed), d / table_filename(space, task))
    return d


@pytest.mark.parametrize("final", ["best", "ensemble"])
def test_evolve_select_score_end_to_end(data_dir, tmp_path, capsys, final):
    runs = []
    for seed in (0, 1):
        out = tmp_path / f"run_{seed}.json"
        rc = main(["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10,nb101/cifar10", "--seed", str(seed),
                   "--population", "20", "--generations", "3", "--n-train", "50", "--out", str(out),
                   "--sr-json", json.dumps({"init_max_depth": 3, "final": final})])
        assert rc == 0
        runs.append(json.loads(out.read_text()))
    r = runs[0]
    for key in ("formula", "text", "sympy", "latex", "proxies", "fitness", "config", "seed", "versions",
                "wall_seconds", "history", "trainset", "transform", "split"):
        assert key in r
    assert r["trainset"] == ["nb201/cifar10", "nb101/cifar10"]
    assert r["split"] == {"n_train": 50, "max_train_fraction": 0.5, "seed": 0}
    assert r["config"]["population"] == 20 and r["config"]["init_max_depth"] == 3
    assert r["fitness"]["per_problem"]["nb201/cifar10"]["train"]["n"] == 50

    best = tmp_path / "best.json"
    assert main(["select", "--runs", str(tmp_path / "run_0.json"), str(tmp_path / "run_1.json"), "--data", str(data_dir),
                 "--out", str(best)]) == 0
    chosen = json.loads(best.read_text())
    # evolve --final builds the same final proxy in the evolve process: the same runs and the same best.json
    both = tmp_path / "both"
    assert main(["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10,nb101/cifar10", "--seeds", "0,1",
                 "--population", "20", "--generations", "3", "--n-train", "50", "--out", str(both / "run_{seed}.json"),
                 "--sr-json", json.dumps({"init_max_depth": 3, "final": final}), "--final", str(both / "best.json")]) == 0
    for seed in (0, 1):
        assert _without_wall(json.loads((both / f"run_{seed}.json").read_text())) == _without_wall(runs[seed])
    from_evolve = json.loads((both / "best.json").read_text())
    assert [c["path"] for c in from_evolve["selected_from"]] == [str(both / f"run_{c['seed']}.json")
                                                                 for c in chosen["selected_from"]]
    for f in (from_evolve, chosen):
        f["selected_from"] = [{k: v for k, v in c.items() if k != "path"} for c in f["selected_from"]]
        f.pop("selected_path", None)
        for m in f.get("members", []):
            m.pop("sources")
    assert _without_wall(from_evolve) == _without_wall(chosen)
    fits = [x["fitness"]["train_fitness"] for x in runs]
    assert len(chosen["selected_from"]) == 2
    assert chosen["selection"]["final"] == final
    if final == "best":
        assert chosen["fitness"]["train_fitness"] == max(fits)
        assert chosen["seed"] == int(np.argmax(fits))  # ties -> lowest seed
    else:  # an ensemble of both runs, best training fitness first (or one member when both found the same formula)
        assert chosen["kind"] == "ensemble"
        assert chosen["seed"][0] == int(np.argmax(fits))
        texts = {x["text"] for x in runs}
        assert len(chosen["members"]) == len(texts)

    scores = tmp_path / "scores.parquet"
    assert main(["score", "--formula", str(best), "--data", str(data_dir), "--out", str(scores)]) == 0
    df = pd.read_parquet(scores)
    assert list(df.columns) == ["problem", "space", "task", "split", "n", "kendall", "spearman", "top5", "gate"]
    assert (df["gate"] == "").all()  # not a gated proxy
    assert set(df["problem"]) == {"nb201/cifar10", "nb101/cifar10", "nb301/cifar10"}  # nb301 never seen
    assert (df["split"] == "test").all()
    meta = pq.read_schema(scores).metadata
    assert meta[b"formula_text"].decode() == chosen["text"]
    # test rows = the shared split's complement, and the score equals a direct recomputation
    f = load_formula(best)
    for _, row in df.iterrows():
        table = load_problem(data_dir, row["problem"])
        _, test = split(table, 50, 0, 0.5)
        assert row["n"] == test.n
        assert row["kendall"] == pytest.approx(kendall(f.evaluate_table(test), test.target))
    # the train rows of a trained problem reproduce the run's stored train tau
    train = tmp_path / "train.parquet"
    assert main(["score", "--formula", str(best), "--data", str(data_dir), "--problems", "nb201/cifar10",
                 "--split", "train", "--out", str(train)]) == 0
    row = pd.read_parquet(train).iloc[0]
    assert row["kendall"] == pytest.approx(chosen["fitness"]["per_problem"]["nb201/cifar10"]["train"]["kendall"])


def test_evolve_from_config_file(data_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("split: {n_train: 30, max_train_fraction: 0.5, seed: 1}\n"
                   "sr: {population: 10, generations: 1, init_max_depth: 2, transform: rank, metric: spearman}\n")
    out = tmp_path / "r.json"
    assert main(["evolve", "--data", str(data_dir), "--problems", "nb301/cifar10", "--config", str(cfg),
                 "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["split"]["n_train"] == 30 and r["split"]["seed"] == 1
    assert r["transform"] == "rank" and r["fitness"]["metric"] == "spearman"


def test_bad_inputs_give_one_line_errors(data_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10", "--sr-json", '{"popsize": 3}',
                 "--out", str(out)]) == 2
    assert "unknown key" in capsys.readouterr().err and not out.exists()
    assert main(["score", "--formula", str(tmp_path / "none.json"), "--data", str(data_dir),
                 "--out", str(tmp_path / "s.parquet")]) == 2
    assert "formula file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["select", "--runs", str(bad), "--out", str(tmp_path / "b.json")]) == 2
    assert "expected a FormulaRun JSON" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


@pytest.mark.integration
def test_evolved_beats_best_single_proxy_on_nb201_cifar10(ingested_dir, tmp_path):
    """Small budget on the real nb201/cifar10 train split: the test tau exceeds every single proxy's test tau."""
    out = tmp_path / "run.json"
    assert main(["evolve", "--data", str(ingested_dir), "--problems", "nb201/cifar10", "--population", "60",
                 "--generations", "10", "--seed", "0", "--out", str(out)]) == 0
    run = json.loads(out.read_text())
    test_tau = run["fitness"]["per_problem"]["nb201/cifar10"]["test"]["kendall"]
    table = load_problem(ingested_dir, "nb201/cifar10")
    _, test = split(table, 1000, 0, 0.5)
    singles = {p: kendall(test.values(p), test.target) for p in test.proxies}
    assert max(singles.values()) > 0.55  # jacov ~ 0.63 on this split
    assert test_tau > max(singles.values())


def _without_wall(run: dict) -> dict:
    """A FormulaRun without its timings (wall seconds of the run and of each generation)."""
    out = {k: v for k, v in run.items() if k != "wall_seconds"}
    if "history" in out:
        out["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in out["history"]]
    return out


def test_evaluate_trainsets_of_a_protocol_in_one_process_equals_one_call_each(data_dir, tmp_path):
    """evaluate --trainsets (the pipeline's one job per protocol) writes, per training set, the file of the
    single-training-set call with that set's runs, training problems and held-out test problems."""
    from evoproxy.protocols import evaluation_problems, trainsets

    problems = ["nb201/cifar10", "nb101/cifar10", "nb301/cifar10"]
    sets = trainsets("loso", problems)
    split_args = ["--n-train", "40", "--split-seed", "0"]
    for name, train in sets.items():
        d = tmp_path / "evolve" / "loso" / name
        assert main(["evolve", "--data", str(data_dir), "--problems", ",".join(train), "--seeds", "0,1",
                     "--population", "12", "--generations", "2", *split_args, "--out", str(d / "run_{seed}.json"),
                     "--sr-json", json.dumps({"init_max_depth": 3}), "--final", str(d / "best.json")]) == 0
    opts = [*split_args, "--n-boot", "20", "--n-supervised", "30", "--seed", "3", "--protocol", "loso"]
    assert main(["evaluate", "--formula", str(tmp_path / "evolve/loso/{trainset}/best.json"), "--trainsets",
                 ",".join(sets), "--data", str(data_dir), "--problems", ",".join(problems), *opts,
                 "--out", str(tmp_path / "batch/{trainset}.parquet")]) == 0
    for name, train in sets.items():
        d = tmp_path / "evolve" / "loso" / name
        one = tmp_path / "one" / f"{name}.parquet"
        assert main(["evaluate", "--formula", str(d / "best.json"), "--runs", str(d / "run_0.json"),
                     str(d / "run_1.json"), "--data", str(data_dir), "--problems",
                     ",".join(evaluation_problems("loso", train, problems)), "--train-problems", ",".join(train),
                     "--trainset", name, *opts, "--out", str(one)]) == 0
        want, got = pd.read_parquet(one), pd.read_parquet(tmp_path / "batch" / f"{name}.parquet")
        assert list(got["problem"].unique()) == evaluation_problems("loso", train, problems)
        assert set(got.loc[got["kind"] == "run", "method"]) == {"run_0", "run_1"}
        pd.testing.assert_frame_equal(got, want)
    # the patterns must name the training set
    assert main(["evaluate", "--formula", str(tmp_path / "evolve/loso/no_nb101/best.json"), "--trainsets",
                 "no_nb101", "--data", str(data_dir), "--protocol", "loso", "--out", str(tmp_path / "x.parquet")]) == 2
