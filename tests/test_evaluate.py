"""Transfer evaluation: bootstrap CI, best-single choice on training, ensembles, supervised reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from evoproxy import PROXIES
from evoproxy.evaluate import (
    bootstrap_kendall,
    evaluate,
    interval_below,
    mean_rank,
    rank_proxies_on_training,
    win_counts,
)
from evoproxy.problems import ProblemTable, split


def make_table(space: str, task: str, n: int, good: str, seed: int) -> ProblemTable:
    """Accuracy plus 13 proxies; ``good`` tracks the accuracy closely, the rest are noise."""
    rng = np.random.default_rng(seed)
    acc = rng.normal(size=n)
    df = pd.DataFrame({"arch": [f"{space}-{i}" for i in range(n)]})
    for p in PROXIES:
        df[p] = acc + 0.1 * rng.normal(size=n) if p == good else rng.normal(size=n)
    df["val_accuracy"] = acc
    return ProblemTable(space, task, df)


def test_bootstrap_perfect_and_known_interval():
    y = np.arange(50, dtype=float)
    lo, hi, taus = bootstrap_kendall(y, y, n_boot=200, seed=1)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0) and len(taus) == 200
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = x + rng.normal(size=400)
    tau = kendalltau(x, y).statistic
    lo, hi, taus = bootstrap_kendall(x, y, n_boot=1000, seed=3)
    assert lo < tau < hi
    # resamples agree with scipy on one resample
    idx = np.random.default_rng(3).integers(0, 400, size=(1000, 400))
    assert taus[0] == pytest.approx(kendalltau(x[idx[0]], y[idx[0]]).statistic)
    # the sampling sd of tau for n=400 at tau~0.5 is about 0.03: width near 4 sd
    assert 0.06 < hi - lo < 0.18
    assert bootstrap_kendall(x, y, 1000, seed=3)[:2] == (lo, hi)  # seeded


def test_interval_below_needs_a_gap_between_intervals():
    # a loss needs the whole interval under the other's: touching or overlapping intervals are not significant
    assert interval_below(0.40, 0.41)
    assert not interval_below(0.41, 0.41)
    assert not interval_below(0.45, 0.41)
    assert interval_below(np.array([0.1, 0.5, np.nan]), np.array([0.2, 0.2, 0.2])).tolist() == [True, False, False]


def test_mean_rank_ignores_missing_and_ranks_nonfinite_last():
    df = pd.DataFrame({"arch": list("abcd"), "nwot": [1.0, 2.0, 3.0, np.nan], "snip": [4.0, 3.0, 2.0, 1.0],
                       "val_accuracy": [0.0, 1.0, 2.0, 3.0]})
    t = ProblemTable("s", "t", df)
    np.testing.assert_allclose(mean_rank(t, ["nwot", "snip", "zen"]), [(2 + 4) / 2, (3 + 3) / 2, (4 + 2) / 2, 1 / 2 + 1 / 2])


def test_best_single_is_chosen_on_training_not_test():
    trains = [make_table("a", "x", 300, "synflow", 0), make_table("b", "y", 300, "synflow", 1)]
    test = make_table("c", "z", 600, "zen", 2)
    ranking = rank_proxies_on_training([split(t, 100, 0)[0] for t in trains])
    assert ranking.index[0] == "synflow" and ranking.iloc[0] > 0.8
    df = evaluate(lambda t: t.values("zen"), trains, [test], n_train=100, split_seed=0, n_boot=100, n_supervised=100)
    rows = df.set_index("method")
    assert "best_single(synflow)" in rows.index
    # on the test problem only zen (here the 'evolved' score) is informative; synflow is noise there
    assert rows.loc["evolved", "kendall"] > 0.8 > abs(rows.loc["best_single(synflow)", "kendall"]) + 0.6
    assert rows.loc["evolved", "kendall"] == pytest.approx(rows.loc["zen", "kendall"])
    # test split only: n = 600 - 100 train
    assert (df["n"] == 500).all()
    # supervised reference learns zen from 100 labelled archs
    sup = df[df["kind"] == "supervised"].iloc[0]
    assert sup["method"] == "supervised_hgb(100)" and sup["kendall"] > 0.6
    assert set(df["kind"]) == {"evolved", "handcrafted", "best_single", "ensemble", "supervised"}
    assert len(df) == 1 + 13 + 1 + 2 + 1
    w = win_counts(df)
    assert bool(w.loc[0, "evolved_wins"]) and not bool(w.loc[0, "baseline_wins"])
    ev = rows.loc["evolved"]
    assert ev["ci_low"] < ev["kendall"] < ev["ci_high"]
    assert np.isnan(rows.loc["nwot", "ci_low"])


def test_best_single_is_the_best_on_training_among_the_proxies_the_test_problem_has():
    trains = [make_table("a", "x", 300, "synflow", 0)]
    test = make_table("c", "z", 300, "zen", 2)
    lacking = ProblemTable("c", "z", test.df.drop(columns=["synflow"]))
    ranking = list(rank_proxies_on_training([split(trains[0], 100, 0)[0]]).index)
    df = evaluate(lambda t: t.values("zen"), trains, [lacking], n_train=100, split_seed=0, n_boot=10, n_supervised=0)
    best = df[df["kind"] == "best_single"].iloc[0]
    assert best["method"] == f"best_single({ranking[1]})" and np.isfinite(best["kendall"])  # not '–'


def test_evaluate_rejects_wrong_length_scores():
    t = make_table("a", "x", 100, "nwot", 0)
    with pytest.raises(ValueError, match="a/x: the formula gave"):
        evaluate(lambda tab: np.zeros(3), [t], [t], n_train=20, split_seed=0, n_boot=10, n_supervised=0)


def test_missing_proxy_has_no_value():
    t = make_table("a", "x", 100, "nwot", 0)
    t.df["zen"] = np.nan
    df = evaluate(lambda tab: tab.values("nwot"), [t], [t], n_train=20, split_seed=0, n_boot=10, n_supervised=0)
    zen = df.set_index("method").loc["zen"]
    assert np.isnan(zen["kendall"]) and np.isnan(zen["spearman"])


def test_evaluate_is_seeded():
    t = make_table("a", "x", 200, "nwot", 0)
    kw = dict(n_train=50, split_seed=0, n_boot=100, n_supervised=50, seed=4)
    a = evaluate(lambda tab: tab.values("nwot"), [t], [t], **kw)
    b = evaluate(lambda tab: tab.values("nwot"), [t], [t], **kw)
    pd.testing.assert_frame_equal(a, b)


def test_precomputed_supervised_references_give_the_same_evaluation(tmp_path):
    from evoproxy.evaluate import load_supervised, supervised_table
    from evoproxy.problems import SplitConfig
    from evoproxy.protocols import supervised_cases

    trains = [make_table("a", "x", 300, "synflow", 0)]
    tests = [make_table("c", "z", 400, "zen", 2), make_table("d", "w", 300, "nwot", 3)]
    kw = dict(n_train=100, split_seed=0, n_boot=50, n_supervised=80, seed=4)
    want = evaluate(lambda t: t.values("zen"), trains, tests, **kw)
    cases = supervised_cases([t.id for t in tests], 4)
    assert cases == [("c/z", 4), ("d/w", 5)]
    path = tmp_path / "supervised.parquet"
    cfg = SplitConfig.from_dict({"n_train": 100, "seed": 0}, "test")
    supervised_table(tests, cases + [("c/z", 9)], 80, cfg).to_parquet(path)
    got = evaluate(lambda t: t.values("zen"), trains, tests, **kw, supervised=load_supervised(path, 80))
    pd.testing.assert_frame_equal(got, want)
    assert (got["kind"] == "supervised").sum() == 2
    # a file made for another budget or split is refused, not silently used
    with pytest.raises(ValueError, match="n_supervised"):
        load_supervised(path, 40)
    other = SplitConfig.from_dict({"n_train": 100, "seed": 1}, "test")
    supervised_table(tests, cases, 80, other).to_parquet(path)
    with pytest.raises(ValueError, match="other test archs"):
        evaluate(lambda t: t.values("zen"), trains, tests, **kw, supervised=load_supervised(path, 80))


def test_supervised_cli_rejects_malformed_cases():
    from evoproxy.cli.supervised import parse_cases

    assert parse_cases("nb201/cifar10@1, nb101/cifar10@0") == [("nb201/cifar10", 1), ("nb101/cifar10", 0)]
    for bad in ("nb201/cifar10", "nb201/cifar10@x", "@3", ""):
        with pytest.raises(ValueError, match="--cases"):
            parse_cases(bad)
