"""``evoproxy search`` / ``nas_table`` end to end on the real NB201 tables of the mirror (lookup mode)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evoproxy.cli import main

pytest.importorskip("evoproxy.spaces")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(mirror_dir, tmp_path_factory) -> Path:
    from evoproxy.release.ingest import ingest

    out = tmp_path_factory.mktemp("nasdata")
    ingest(mirror_dir, out, spaces=["nb201"])
    return out


def _search(data: Path, out: Path, *extra: str) -> int:
    return main(["search", "--space", "nb201", "--data", str(data), "--quiet", "--out", str(out), *extra])


def test_lookup_search_writes_full_result(data, tmp_path):
    out = tmp_path / "nwot" / "cifar10" / "seed_0.json"
    rc = _search(data, out, "--dataset", "cifar10", "--objective", "nwot", "--budget-evals", "300", "--seed", "0")
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["status"] == "budget_evals" and r["evaluations"] == 300 and len(r["history"]["arch"]) == 300
    # degenerate cells are not in the 9,445-arch release table: they are skipped and counted
    assert r["skipped"] > 0 and r["lookup"]["skipped_not_in_table"] == r["skipped_unique"] > 0
    table = pd.read_parquet(data / "nb201__cifar10.parquet").set_index("arch")
    assert r["best"]["score"] == pytest.approx(table.loc[r["best"]["arch"], "nwot"])
    assert r["best"]["score"] == pytest.approx(max(s for s in r["history"]["score"] if s is not None))
    assert r["best"]["cell"].count("~") == 6
    scores = [t["score"] for t in r["trajectory"]]
    assert scores == sorted(scores) and r["trajectory"][-1]["arch"] == r["best"]["arch"]
    t = r["truth"]
    acc = pd.read_parquet(data / "nb201_accuracy.parquet").set_index("arch")["cifar10_valid_acc_mean"]
    assert t["accuracy"] == pytest.approx(acc[r["best"]["arch"]])
    assert t["rank"] == 1 + int((acc > t["accuracy"]).sum()) and t["n_cells"] == 15625
    assert t["metric"] == "cifar10_valid_acc_mean" and t["split"] == "valid"
    assert r["wall_seconds"] >= r["objective_seconds"] >= 0 and r["overhead_seconds"] >= 0
    assert r["objective"]["name"] == "nwot" and r["mode"] == "lookup"


def test_same_seed_same_trajectory(data, tmp_path):
    args = ["--dataset", "ImageNet16-120", "--objective", "synflow", "--budget-evals", "200"]
    _search(data, tmp_path / "a.json", *args, "--seed", "3")
    _search(data, tmp_path / "b.json", *args, "--seed", "3")
    _search(data, tmp_path / "c.json", *args, "--seed", "4")
    a, b, c = (json.loads((tmp_path / f"{k}.json").read_text()) for k in "abc")
    assert a["history"]["arch"] == b["history"]["arch"] and a["trajectory"] == [
        {**t, "seconds": a["trajectory"][i]["seconds"]} for i, t in enumerate(b["trajectory"])]
    assert a["history"]["arch"] != c["history"]["arch"]
    assert a["truth"]["split"] == "valtest"


def test_random_objective_and_sparse_cifar100_table(data, tmp_path):
    out = tmp_path / "r.json"
    assert _search(data, out, "--dataset", "cifar100", "--objective", "random", "--algorithm", "random",
                   "--budget-evals", "5", "--seed", "1") == 0
    r = json.loads(out.read_text())
    assert r["algorithm"] == "random" and r["evaluations"] == 5
    # random archs are scored without lookup; the truth is the cifar100 valtest accuracy of all 15,625 cells
    assert r["truth"]["metric"] == "cifar100_valtest_acc_mean" and r["truth"]["accuracy"] is not None
    out = tmp_path / "j.json"  # the mirror's cifar100 table has 725 archs: most candidates are skipped
    assert _search(data, out, "--dataset", "cifar100", "--objective", "jacov", "--budget-evals", "50") == 0
    r = json.loads(out.read_text())
    assert r["evaluations"] == 50 and r["skipped"] > 50


def test_bad_inputs_give_one_line_errors(data, tmp_path, capsys):
    out = tmp_path / "x.json"
    assert _search(data, out, "--objective", "nope.json", "--budget-evals", "5") == 2
    assert "neither a proxy name" in capsys.readouterr().err
    assert _search(data, out, "--objective", "nwot") == 2
    assert "--budget-evals and/or --budget-seconds" in capsys.readouterr().err
    assert _search(data, out, "--dataset", "svhn", "--objective", "nwot", "--budget-evals", "5") == 2
    assert "nb201/svhn" in capsys.readouterr().err
    assert main(["search", "--objective", "nwot", "--budget-evals", "5", "--out", str(out)]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert not out.exists()


def test_sigint_writes_best_so_far_atomically(data, tmp_path):
    out = tmp_path / "int" / "seed_0.json"
    cmd = [sys.executable, "-m", "evoproxy", "search", "--space", "nb201", "--dataset", "cifar10", "--objective",
           "nwot", "--data", str(data), "--budget-evals", "100000000", "--budget-seconds", "60", "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even if inherited ignored
    deadline = time.monotonic() + 60
    for line in proc.stderr:  # wait until the search loop runs
        if "searching nb201/cifar10" in line or time.monotonic() > deadline:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    r = json.loads(out.read_text())
    assert r["status"] == "interrupted" and r["evaluations"] > 0 and r["best"]["arch"] is not None
    assert r["wall_seconds"] < 30
    assert [p.name for p in out.parent.iterdir()] == ["seed_0.json"]  # no temp files left behind
    assert "interrupted" in stdout


def test_nas_table_cli(data, tmp_path, capsys):
    for obj in ("nwot", "random"):
        for seed in (0, 1):
            algo = "random" if obj == "random" else "aging"
            _search(data, tmp_path / "nas" / obj / "cifar10" / f"seed_{seed}.json", "--objective", obj,
                    "--algorithm", algo, "--budget-evals", "100", "--seed", str(seed))
    capsys.readouterr()
    t = tmp_path / "tables"
    assert main(["nas_table", str(tmp_path / "nas"), "--csv", str(t / "nas.csv"), "--markdown", str(t / "nas.md"),
                 "--latex", str(t / "nas.tex"), "--figure", str(t / "nas.png")]) == 0
    s = pd.read_csv(t / "nas.csv")
    assert list(s["objective"]) == ["nwot", "random"] and list(s["seeds"]) == [2, 2]
    assert s["optimum"].iloc[0] == pytest.approx(91.6067, abs=1e-3)
    md = (t / "nas.md").read_text()
    assert "cifar10 (valid)" in md and "benchmark optimum (of 15625 cells)" in md
    assert main(["nas_table", str(tmp_path / "empty"), "--csv", str(t / "x.csv")]) == 2


def test_online_search_on_real_cifar10_subset(data, cifar_npz, tmp_path):
    args = ["--dataset", "cifar10", "--objective", "synflow", "--mode", "online", "--images", str(cifar_npz),
            "--device", "cpu", "--budget-evals", "3", "--population", "2", "--sample-size", "1", "--seed", "0"]
    assert _search(data, tmp_path / "on.json", *args) == 0
    r = json.loads((tmp_path / "on.json").read_text())
    assert r["mode"] == "online" and r["evaluations"] == 3 and r["skipped"] == 0
    assert r["online"]["device"] == "cpu" and r["online"]["batch_size"] == 64
    assert set(r["online"]["proxy_seconds"]) == {"synflow"}  # only the proxies the objective needs
    assert 0 < r["objective_seconds"] <= r["wall_seconds"]
    assert r["truth"]["accuracy"] is not None
    # online scores are reproducible: the same arch gets the same value in a second run
    assert _search(data, tmp_path / "on2.json", *args) == 0
    r2 = json.loads((tmp_path / "on2.json").read_text())
    assert r2["history"] == {**r["history"], "seconds": r2["history"]["seconds"]}


def test_online_search_tnb101_data_free_and_taskonomy(tmp_path, capsys):
    """TransNAS-Bench-101 online: a data-free objective needs no images; others take a Taskonomy folder."""
    from test_data_taskonomy import make_taskonomy

    base = ["search", "--space", "tnb101_micro", "--mode", "online", "--device", "cpu", "--quiet",
            "--population", "2", "--sample-size", "1", "--seed", "0"]
    out = tmp_path / "params.json"
    assert main([*base, "--objective", "params", "--budget-evals", "4", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["dataset"] == "class_scene" and r["evaluations"] == 4 and r["online"]["batch_size"] == 32
    assert r["online"]["images"] is None and set(r["online"]["proxy_seconds"]) == {"params"}
    from evoproxy.spaces import get_space

    assert get_space("tnb101_micro").is_valid(r["best"]["arch"])
    rc = main([*base, "--objective", "nwot", "--budget-evals", "2", "--out", str(tmp_path / "x.json")])
    assert rc == 2 and "pass --images with a Taskonomy folder" in capsys.readouterr().err
    images = make_taskonomy(tmp_path / "taskonomy", points=2)
    out = tmp_path / "nwot.json"
    assert main([*base, "--objective", "nwot", "--dataset", "room_layout", "--images", str(images),
                 "--batch-size", "2", "--budget-evals", "2", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["dataset"] == "room_layout" and r["online"]["batch_size"] == 2 and r["evaluations"] == 2
    assert all(isinstance(v, float) and v == v for v in r["history"]["score"])  # finite nwot scores
