"""ProblemTable round trip and the shared seeded train/test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evoproxy.problems import (
    ProblemTable,
    ProblemTableError,
    load_problem,
    load_problems,
    parse_problem_id,
    save_table,
    split,
    train_mask,
)


def _table(n: int = 50) -> ProblemTable:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"arch": [f"({i}, 0)" for i in range(n)], "nwot": rng.normal(size=n),
                       "val_accuracy": rng.normal(size=n)})
    return ProblemTable("toy", "t", df, {"absent_proxies": ["zen"]})


def test_round_trip_keeps_metadata(tmp_path: Path) -> None:
    save_table(_table(), tmp_path / "toy__t.parquet")
    t = load_problem(tmp_path, "toy/t")
    assert t.id == "toy/t" and t.n == 50 and t.meta["absent_proxies"] == ["zen"] and t.meta["n"] == 50
    assert t.proxies == ["nwot"]
    assert np.isnan(t.values("zen")).all()
    with pytest.raises(ProblemTableError, match="tables present: toy/t"):
        load_problems(tmp_path, "toy/other")


def test_problem_id_parsing() -> None:
    assert parse_problem_id("nb201/ImageNet16-120") == ("nb201", "ImageNet16-120")
    with pytest.raises(ProblemTableError, match="'<space>/<task>'"):
        parse_problem_id("nb201")


def test_split_is_seeded_order_free_and_keeps_a_test_split() -> None:
    t = _table(50)
    m1 = train_mask(t.df["arch"], 1000, 0, t.id)
    assert m1.sum() == 25  # capped at max_train_fraction=0.5
    shuffled = t.df["arch"].sample(frac=1, random_state=1)
    m2 = train_mask(shuffled, 1000, 0, t.id)
    assert set(shuffled[m2]) == set(t.df["arch"][m1])  # row order does not matter
    assert not np.array_equal(train_mask(t.df["arch"], 10, 1, t.id), train_mask(t.df["arch"], 10, 0, t.id))
    tr, te = split(t, 10, 0)
    assert tr.n == 10 and te.n == 40 and not set(tr.df["arch"]) & set(te.df["arch"])
