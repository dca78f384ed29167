"""Ingest of release JSON into ProblemTables: real mirror, metadata, and every bad input with its clear error."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from evoproxy import PROXIES
from evoproxy.cli import main
from evoproxy.problems import load_problem, load_table
from evoproxy.release.ingest import IngestError, ingest

EXPECTED_N = {
    "nb101/cifar10": 500, "nb201/cifar10": 9445, "nb201/cifar100": 725, "nb201/ImageNet16-120": 9445,
    "nb301/cifar10": 725, "tnb101_micro/class_scene": 2128, "tnb101_micro/jigsaw": 711,
    "tnb101_macro/class_object": 662, "tnb101_macro/room_layout": 725,
}


def _record(arch: str, acc: float | None = 90.0, **scores: float) -> dict:
    rec: dict = {"idx": "0", "arch": arch}
    for p, v in scores.items():
        rec[p] = {"score": v, "time": 0.5}
    if acc is not None:
        rec["val_accuracy"] = acc
    return rec


def _write(tmp: Path, data: dict | str, name: str = "zc_nasbench201.json") -> Path:
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_text(data if isinstance(data, str) else json.dumps(data))
    return src


def _outputs(out: Path) -> list[Path]:
    return sorted(out.glob("*")) if out.exists() else []


def test_mirror_ingest_shapes_and_metadata(ingested_dir: Path) -> None:
    for pid, n in EXPECTED_N.items():
        t = load_problem(ingested_dir, pid)
        assert t.n == n
        assert t.df["arch"].is_unique
        assert list(t.df.columns[: 1 + len(PROXIES)]) == ["arch", *PROXIES]
        assert t.df["val_accuracy"].dtype == np.float64
        assert t.meta["n"] == n and t.meta["space"] == pid.split("/")[0]
        assert len(t.meta["source_sha256"]) == 64
    nb101 = load_problem(ingested_dir, "nb101/cifar10")
    assert nb101.meta["absent_proxies"] == ["nwot", "zen"]
    assert nb101.df["nwot"].isna().all()
    assert "zen" not in nb101.proxies and "synflow" in nb101.proxies
    nb301 = load_problem(ingested_dir, "nb301/cifar10")
    assert "time_synflow" in nb301.df.columns and nb301.df["time_synflow"].notna().all()
    acc = __import__("pandas").read_parquet(ingested_dir / "nb201_accuracy.parquet")
    assert len(acc) == 15625 and acc["arch"].is_unique
    assert acc["cifar10_valid_acc_mean"].max() == pytest.approx(91.61, abs=0.01)


def test_canonicalisation_in_ingest(tmp_path: Path) -> None:
    src = _write(tmp_path, {"cifar10": {"(1,2,2, 3,3,3)": _record("(1,2,2, 3,3,3)", 80.0, nwot=1.0)}})
    ingest(src, tmp_path / "out")
    t = load_problem(tmp_path / "out", "nb201/cifar10")
    assert t.df["arch"].tolist() == ["(1, 2, 2, 3, 3, 3)"]


def test_nonfinite_kept_as_nan_and_counted(tmp_path: Path) -> None:
    recs = {
        "(0, 0, 0, 0, 0, 0)": _record("(0, 0, 0, 0, 0, 0)", 80.0, synflow=float("nan"), nwot=1.0),
        "(0, 0, 0, 0, 0, 2)": _record("(0, 0, 0, 0, 0, 2)", 81.0, synflow=float("inf"), nwot=2.0),
        "(0, 0, 0, 0, 0, 3)": _record("(0, 0, 0, 0, 0, 3)", 82.0, synflow=3.0, nwot=None),
    }
    src = _write(tmp_path, {"cifar10": recs})  # json.dumps writes NaN / Infinity tokens, as Python-made releases do
    ingest(src, tmp_path / "out")
    t = load_problem(tmp_path / "out", "nb201/cifar10")
    assert t.meta["nonfinite_counts"] == {"nwot": 1, "synflow": 2}
    assert np.isnan(t.df["synflow"][:2]).all() and t.df["synflow"][2] == 3.0
    assert not (t.df[["synflow", "nwot"]] < -1e7).any().any()  # never a -1e8 sentinel
    assert set(t.meta["absent_proxies"]) == set(PROXIES) - {"synflow", "nwot"}


def test_extra_numeric_keys_become_columns_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rec = _record("(0, 0, 0, 0, 0, 0)", 80.0, nwot=1.0)
    rec["my_proxy"] = {"score": 4.5, "time": None}
    rec["train_time"] = 12
    src = _write(tmp_path, {"cifar10": {"(0, 0, 0, 0, 0, 0)": rec}})
    with caplog.at_level(logging.WARNING):
        ingest(src, tmp_path / "out")
    t = load_problem(tmp_path / "out", "nb201/cifar10")
    assert t.df["my_proxy"].tolist() == [4.5] and t.df["train_time"].tolist() == [12.0]
    assert t.meta["extra_columns"] == ["my_proxy", "train_time"]
    assert "my_proxy" in caplog.text and "train_time" in caplog.text


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"cifar10": {"(0, 0, 0, 0, 0, 0)": {"arch": "(0, 0, 0, 0, 0, 0)", "val_acc', "malformed or truncated JSON"),
        ({"cifar10": {"(0, 0, 0, 0, 0, 0)": _record("(0, 0, 0, 0, 0, 0)", None, nwot=1.0)}}, "has no 'val_accuracy'"),
        ({"cifar10": {"(0,0,0,0,0,0)": _record("(0,0,0,0,0,0)", 80.0), "(0, 0, 0, 0, 0, 0)": _record("(0, 0, 0, 0, 0, 0)")}},
         "duplicate arch"),
        ({"cifar10": {}}, "task has no records"),
        ({"cifar10": {"(9, 0, 0, 0, 0, 0)": _record("(9, 0, 0, 0, 0, 0)")}}, "6 op ids"),
        ({"cifar10": {"(0, 0, 0, 0, 0, 0)": _record("(0, 0, 0, 0, 0, 0)", "high")}}, "must be a finite number"),
    ],
)
def test_bad_input_clear_error_and_no_output(tmp_path: Path, content: dict | str, fragment: str) -> None:
    # a good file next to the bad one: nothing at all may be written when one input is bad
    good = {"jigsaw": {"(0, 1, 2, 3, 0, 1)": _record("(0, 1, 2, 3, 0, 1)", 50.0, nwot=1.0)}}
    _write(tmp_path, good, "zc_transbench101_micro.json")
    src = _write(tmp_path, content)
    out = tmp_path / "out"
    with pytest.raises(IngestError, match=fragment) as info:
        ingest(src, out)
    assert "zc_nasbench201.json" in str(info.value)
    if fragment not in ("malformed or truncated JSON", "task has no records"):
        assert "cifar10" in str(info.value) and "(" in str(info.value)  # task and arch named
    assert _outputs(out) == []


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path, '{"cifar10": {')
    code = main(["ingest", "--src", str(src), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("evoproxy ingest: error:") and "zc_nasbench201.json" in err
    assert "Traceback" not in err
    assert _outputs(tmp_path / "out") == []


def test_load_table_rejects_wrong_shapes(tmp_path: Path) -> None:
    import pandas as pd

    from evoproxy.problems import ProblemTableError

    p = tmp_path / "nb201__x.parquet"
    pd.DataFrame({"arch": ["a", "a"], "val_accuracy": [1.0, 2.0]}).to_parquet(p)
    with pytest.raises(ProblemTableError, match="duplicate arch 'a'"):
        load_table(p)
    pd.DataFrame({"arch": ["a"], "nwot": ["x"], "val_accuracy": [1.0]}).to_parquet(p)
    with pytest.raises(ProblemTableError, match="'nwot' must be float64"):
        load_table(p)
    assert math.isfinite(1.0)
