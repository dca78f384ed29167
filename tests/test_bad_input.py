"""Bad and awkward input across the subcommands: each case feeds the input and asserts the documented outcome
(one clear line naming the file or field, exit code 2, no output under the final name, or the documented handling
and its count). The README's "Rules for awkward values" and its bad-input table list the same cases."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sr_engine import make_table

from evoproxy.cli import main
from evoproxy.fileio import atomic_path
from evoproxy.metrics import kendall, top_k_precision
from evoproxy.problems import MISSING_MAGNITUDE, load_problem, load_table, save_table, table_filename
from evoproxy.release.ingest import IngestError, ingest, ingest_accuracy

ARCH = "(0, 0, 0, 0, 0, {})"


def _release(tmp: Path, records: dict, name: str = "zc_nasbench201.json", raw: str | None = None) -> Path:
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_text(raw if raw is not None else json.dumps({"cifar10": records}))
    return src


def _rec(i: int, acc: float, **scores: float | None) -> dict:
    return {"idx": str(i), "arch": ARCH.format(i), "val_accuracy": acc,
            **{p: {"score": v, "time": None} for p, v in scores.items()}}


def _error(capsys: pytest.CaptureFixture[str], argv: list[str], command: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"evoproxy {command}: error:") and "Traceback" not in err
    assert err.count("\n") == 1  # one line
    return err


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    for space, task, n, seed in (("nb201", "cifar10", 160, 0), ("nb101", "cifar10", 100, 1)):
        save_table(make_table(space, task, n, seed), d / table_filename(space, task))
    return d


# ------------------------------------------------------------------------------------- 1. the -1e8 sentinel
def test_sentinel_is_missing_and_counted(tmp_path: Path) -> None:
    recs = {ARCH.format(i): _rec(i, 80.0 + i, zen=float(i), jacov=-30.0 - i) for i in range(4)}
    recs[ARCH.format(0)]["zen"]["score"] = -1e8
    recs[ARCH.format(1)]["jacov"]["score"] = -1e8
    recs[ARCH.format(2)]["jacov"]["score"] = 3e8  # at or beyond the documented magnitude
    recs[ARCH.format(3)]["jacov"]["score"] = -2.4e6  # large but real (the release's grasp reaches this)
    out = tmp_path / "out"
    ingest(_release(tmp_path, recs), out)
    t = load_problem(out, "nb201/cifar10")
    assert np.isnan(t.values("zen")[0]) and np.isnan(t.values("jacov")[1:3]).all()
    assert t.values("jacov")[3] == -2.4e6
    assert t.meta["sentinel_counts"] == {"jacov": 2, "zen": 1}
    assert t.meta["nonfinite_counts"] == {"jacov": 2, "zen": 1}
    assert not (np.abs(t.df[["zen", "jacov"]].to_numpy()) >= MISSING_MAGNITUDE).any()


@pytest.mark.integration
def test_release_sentinels_no_longer_rank_first(ingested_dir: Path) -> None:
    for task in ("class_object", "jigsaw", "room_layout"):
        t = load_problem(ingested_dir, f"tnb101_micro/{task}")
        assert t.meta["sentinel_counts"]["zen"] == 20 and t.meta["sentinel_counts"]["jacov"] == 20
        assert t.meta["nonfinite_counts"]["zen"] >= 20
        assert np.nanmin(t.values("zen")) > -1e3
    room = load_problem(ingested_dir, "tnb101_micro/room_layout")
    # ranking by neg(zen): before, all 20 sentinel rows (-1e8) sat in the top 5%; now missing values rank last
    from evoproxy.sr.formula import Formula

    s = Formula.from_text("neg(zen)").evaluate_table(room)
    top = np.argsort(-np.where(np.isfinite(s), s, -np.inf), kind="stable")[: int(np.ceil(0.05 * room.n))]
    assert np.isfinite(room.values("zen")[top]).all()


# -------------------------------------------------------------------------- 2. unknown or absent terminals
@pytest.mark.parametrize(("terminals", "fragment"), [
    (["nwot_typo"], "'nwot_typo'] not a proxy"),
    (["zen"], "not a proxy of any training problem"),  # a real proxy that no training table has
])
def test_unknown_terminal_is_refused_before_any_work(data_dir: Path, tmp_path: Path, capsys, terminals, fragment):
    out = tmp_path / "run.json"
    err = _error(capsys, ["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10", "--out", str(out),
                          "--sr-json", json.dumps({"terminals": terminals})], "evolve")
    assert "sr.terminals" in err and fragment in err and "nwot" in err  # lists what the problems have
    assert not out.exists()


# --------------------------------------------------------------------------------------- 3. bad split values
@pytest.mark.parametrize(("flag", "value", "fragment"), [
    ("--n-train", "-5", "n_train must be an integer >= 2"),
    ("--n-train", "0", "n_train must be an integer >= 2"),
    ("--max-train-fraction", "2", "max_train_fraction must be in (0, 1)"),
    ("--max-train-fraction", "1", "max_train_fraction must be in (0, 1)"),
])
def test_bad_split_is_refused_in_evolve_and_evaluate(data_dir, tmp_path, capsys, flag, value, fragment):
    out = tmp_path / "run.json"
    err = _error(capsys, ["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10", "--population", "4",
                          "--generations", "1", flag, value, "--out", str(out)], "evolve")
    assert fragment in err and not out.exists()
    good = tmp_path / "good.json"
    assert main(["evolve", "--data", str(data_dir), "--problems", "nb201/cifar10", "--population", "4",
                 "--generations", "1", "--out", str(good)]) == 0
    evaluated = tmp_path / "eval.parquet"
    split = {"--n-train": ["--n-train", value, "--split-seed", "0"],
             "--max-train-fraction": ["--n-train", "50", "--split-seed", "0", flag, value]}[flag]
    err = _error(capsys, ["evaluate", "--formula", str(good), "--data", str(data_dir), *split, "--n-boot", "5",
                          "--n-supervised", "0", "--out", str(evaluated)], "evaluate")
    assert fragment in err and not evaluated.exists()


def test_a_split_that_leaves_one_row_is_refused(tmp_path: Path, capsys) -> None:
    d = tmp_path / "data"
    save_table(make_table("nb201", "cifar10", 3, 0), d / table_filename("nb201", "cifar10"))
    err = _error(capsys, ["evolve", "--data", str(d), "--out", str(tmp_path / "r.json")], "evolve")
    assert "nb201/cifar10" in err and "leaves 1 train / 2 test rows of 3" in err


# -------------------------------------------------------------------------- 5. one rule for NaN accuracies
def test_nan_accuracies_give_the_same_numbers_in_every_command(tmp_path: Path, caplog) -> None:
    table = make_table("nb201", "cifar10", 500, 4)
    y = table.df["val_accuracy"].to_numpy().copy()
    y[[5, 77, 300, 301, 499]] = np.nan
    table.df["val_accuracy"] = y
    d = tmp_path / "data"
    save_table(table, d / table_filename("nb201", "cifar10"))
    with caplog.at_level(logging.WARNING):
        loaded = load_table(d / table_filename("nb201", "cifar10"))
    assert loaded.meta["nonfinite_target"] == 5 and "5 of 500 rows have a non-finite val_accuracy" in caplog.text
    formula = tmp_path / "f.json"
    formula.write_text(json.dumps({"formula": ["proxy", "nwot"], "split": {"n_train": 100}}))
    assert main(["score", "--formula", str(formula), "--data", str(d), "--split", "all",
                 "--out", str(tmp_path / "s.parquet")]) == 0
    assert main(["baselines", "--data", str(d), "--out", str(tmp_path / "b.parquet")]) == 0
    s = pd.read_parquet(tmp_path / "s.parquet").iloc[0]
    b = pd.read_parquet(tmp_path / "b.parquet").set_index("proxy").loc["nwot"]
    keep = np.isfinite(y)
    want_tau = kendall(table.df["nwot"].to_numpy()[keep], y[keep])
    assert s["n"] == b["n"] == 495
    assert s["kendall"] == pytest.approx(want_tau) and b["kendall"] == pytest.approx(want_tau)
    assert s["spearman"] == pytest.approx(b["spearman"]) and abs(s["spearman"]) > 0.1  # not the old 0.0
    # evolve's per-problem figures and evaluate's rows follow the same rule on the test split
    assert main(["evolve", "--data", str(d), "--population", "6", "--generations", "1", "--n-train", "100",
                 "--sr-json", '{"terminals": ["nwot"]}', "--out", str(tmp_path / "r.json")]) == 0
    run = json.loads((tmp_path / "r.json").read_text())
    assert main(["score", "--formula", str(tmp_path / "r.json"), "--data", str(d),
                 "--out", str(tmp_path / "t.parquet")]) == 0
    assert main(["evaluate", "--formula", str(tmp_path / "r.json"), "--data", str(d), "--n-train", "100",
                 "--split-seed", "0", "--n-boot", "5", "--n-supervised", "0", "--out", str(tmp_path / "e.parquet")]) == 0
    test = run["fitness"]["per_problem"]["nb201/cifar10"]["test"]
    t = pd.read_parquet(tmp_path / "t.parquet").iloc[0]
    e = pd.read_parquet(tmp_path / "e.parquet").set_index("method").loc["evolved"]
    assert test["n"] == t["n"] == e["n"] and test["n"] < 400
    assert test["kendall"] == pytest.approx(t["kendall"]) == pytest.approx(e["kendall"])
    assert test["spearman"] == pytest.approx(t["spearman"]) == pytest.approx(e["spearman"])


# --------------------------------------------------------------------------- 6. truncated accuracy CSV
def _accuracy_csv(path: Path, rows: int = 15625) -> Path:
    from evoproxy.encodings import NB201_OPS

    cells = [tuple(int(d) for d in np.base_repr(i, 5).zfill(6)) for i in range(rows)]
    assert len(NB201_OPS) == 5
    df = pd.DataFrame({"nb201_index": range(rows), "arch": [str(c) for c in cells],
                       "cifar10_valid_acc_mean": 50.0, "cifar10_valid_acc_nseeds": 3,
                       "cifar100_valtest_acc_mean": 30.0, "cifar100_valtest_acc_nseeds": 3,
                       "ImageNet16-120_valtest_acc_mean": 20.0, "ImageNet16-120_valtest_acc_nseeds": 3})
    df.to_csv(path, index=False)
    return path


def test_truncated_or_incomplete_accuracy_csv_is_refused(tmp_path: Path) -> None:
    csv = _accuracy_csv(tmp_path / "nb201_accuracy_15625.csv")
    assert len(pd.read_parquet(ingest_accuracy(csv, tmp_path / "ok.parquet"))) == 15625
    text = csv.read_text()
    out = tmp_path / "acc.parquet"
    for offset, fragment in ((45, "is empty or not a finite number"), (12, "2 fields, expected 8")):
        cut = text[: text.index("\n", len(text) // 2) + offset]  # mid-row, as a killed copy leaves it
        csv.write_text(cut)
        with pytest.raises(IngestError, match=r"nb201_accuracy_15625.csv: line \d+: ") as info:
            ingest_accuracy(csv, out)
        assert fragment in str(info.value) and "truncated file?" in str(info.value)
        line = int(str(info.value).split("line ")[1].split(":")[0])
        assert line == cut.count("\n") + 1  # the last, cut line
        assert not out.exists()
    _accuracy_csv(csv, rows=100)
    with pytest.raises(IngestError, match="100 rows, expected all 15,625 NB201 cells"):
        ingest_accuracy(csv, out)


# --------------------------------------------------------------------------------------- 7. tracebacks
def test_malformed_config_and_sr_json_give_one_line(data_dir: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sr:\n  population: [1, 2\n")
    out = tmp_path / "r.json"
    err = _error(capsys, ["evolve", "--data", str(data_dir), "--config", str(bad), "--out", str(out)], "evolve")
    assert "--config" in err and "bad.yaml" in err and "not valid YAML" in err
    err = _error(capsys, ["evolve", "--data", str(data_dir), "--sr-json", "[1]", "--out", str(out)], "evolve")
    assert "--sr-json: expected a JSON object" in err
    bad.write_text("sr: 5\n")
    err = _error(capsys, ["evolve", "--data", str(data_dir), "--config", str(bad), "--out", str(out)], "evolve")
    assert "section 'sr' must be a mapping" in err
    assert not out.exists()


# ------------------------------------------------------------------------------------------- 8. smaller
def test_src_given_a_file_and_outputs_that_are_files_or_folders(data_dir: Path, tmp_path: Path, capsys) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    err = _error(capsys, ["ingest", "--src", str(a_file), "--out", str(tmp_path / "o")], "ingest")
    assert "is a file; expected the folder" in err
    src = _release(tmp_path, {ARCH.format(0): _rec(0, 80.0, nwot=1.0), ARCH.format(2): _rec(2, 81.0, nwot=2.0)})
    err = _error(capsys, ["ingest", "--src", str(src), "--out", str(a_file)], "ingest")
    assert "is a file, expected a folder" in err and "Errno" not in err
    err = _error(capsys, ["download", "--dest", str(a_file), "--mirror", str(src)], "download")
    assert "--dest" in err and "is a file, expected a folder" in err and "Errno" not in err
    # evolve --out DIR fails before the GP runs (and before the data are even read)
    err = _error(capsys, ["evolve", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)], "evolve")
    assert "--out" in err and "is a folder" in err
    err = _error(capsys, ["score", "--formula", "x.json", "--data", str(data_dir), "--out", str(a_file / "s.parquet")],
                 "score")
    assert "is a file, expected a folder" in err


def test_constant_score_gets_the_chance_top5_not_a_row_order_artefact() -> None:
    y = np.sort(np.random.default_rng(0).normal(size=400))  # rows sorted by accuracy: the worst case
    assert top_k_precision(np.ones(400), y) == pytest.approx(20 / 400)
    assert top_k_precision(np.ones(400), y[::-1]) == pytest.approx(20 / 400)


def test_duplicate_json_keys_and_missing_proxy_keys_are_warned_and_counted(tmp_path: Path, caplog) -> None:
    raw = ('{"cifar10": {'
           f'"{ARCH.format(0)}": {{"arch": "{ARCH.format(0)}", "val_accuracy": 80.0, "nwot": {{"score": 1.0}}, '
           '"nwot": {"score": 5.0}, "zen": {"score": 2.0}}, '
           f'"{ARCH.format(2)}": {{"arch": "{ARCH.format(2)}", "val_accuracy": 81.0, "nwot": {{"score": 2.0}}}}, '
           f'"{ARCH.format(3)}": {{"arch": "{ARCH.format(3)}", "val_accuracy": 82.0, "nwot": {{"score": 3.0}}}}'
           "}}")
    src = _release(tmp_path, {}, raw=raw)
    with caplog.at_level(logging.WARNING):
        ingest(src, tmp_path / "out")
    t = load_problem(tmp_path / "out", "nb201/cifar10")
    assert t.meta["duplicate_keys"] == 1 and t.values("nwot")[0] == 5.0  # last value kept, as JSON parsers do
    assert t.meta["missing_counts"] == {"nwot": 0, "zen": 2} and t.meta["nonfinite_counts"]["zen"] == 2
    assert "duplicated JSON key" in caplog.text and "2 of 3 records lack proxy 'zen'" in caplog.text


def test_stale_part_files_of_killed_writers_are_removed(tmp_path: Path) -> None:
    final = tmp_path / "table.parquet"
    # a writer killed with -9 leaves its temporary file behind
    code = ("import os, sys; from evoproxy.fileio import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n    tmp.write_text('half'); os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code, str(final)], check=False)
    stale = list(tmp_path.glob(".table.parquet.*.part"))
    assert len(stale) == 1 and not final.exists()
    with atomic_path(final) as tmp:
        live = set(tmp_path.glob(".table.parquet.*.part"))
        assert live == {tmp}  # the dead writer's file is gone, ours is there
        tmp.write_text("done")
    assert final.read_text() == "done" and not list(tmp_path.glob("*.part"))
    # a live writer's temporary file is never touched
    with atomic_path(final) as a, atomic_path(final) as b:
        assert a.exists() and b.exists() and a != b
        a.write_text("a")
        b.write_text("b")
    assert final.read_text() == "a" and os.listdir(tmp_path) == ["table.parquet"]

