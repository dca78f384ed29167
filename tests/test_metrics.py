"""Batched rank correlations against scipy (and the top-down correlation against its closed form), the non-finite
rule, and top-k precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from evoproxy.metrics import (
    kendall,
    kendall_batch,
    kendall_bootstrap,
    n_scored,
    savage_scores,
    spearman,
    spearman_batch,
    top_k_precision,
    topdown_batch,
)


@pytest.mark.parametrize("levels", [3, 20, 10_000])
def test_batched_correlations_equal_scipy_with_ties(levels: int) -> None:
    rng = np.random.default_rng(levels)
    X = rng.integers(0, levels, size=(30, 257)).astype(float)
    y = rng.integers(0, max(levels // 2, 2), size=257).astype(float)
    want_tau = [kendalltau(x, y).statistic for x in X]
    want_rho = [spearmanr(x, y).statistic for x in X]
    np.testing.assert_allclose(kendall_batch(X, y), want_tau, atol=1e-12)
    np.testing.assert_allclose(spearman_batch(X, y), want_rho, atol=1e-12)


def test_nonfinite_scores_rank_last() -> None:
    y = np.arange(6, dtype=float)
    x = np.array([np.nan, np.inf, -np.inf, 3.0, 4.0, 5.0])
    # the three non-finite values tie at the bottom: same as giving them equal lowest scores
    same = np.array([0.0, 0.0, 0.0, 3.0, 4.0, 5.0])
    assert kendall(x, y) == pytest.approx(kendalltau(same, y).statistic)
    assert spearman(x, y) == pytest.approx(spearmanr(same, y).statistic)


def test_constant_prediction_scores_zero() -> None:
    y = np.arange(10, dtype=float)
    assert kendall(np.ones(10), y) == 0.0
    assert spearman(np.full(10, np.nan), y) == 0.0


def test_top_k_precision() -> None:
    y = np.arange(100, dtype=float)
    assert top_k_precision(y, y, 0.05) == 1.0
    assert top_k_precision(-y, y, 0.05) == 0.0
    x = y.copy()
    x[99] = -1  # the best arch drops out of the predicted top 5
    assert top_k_precision(x, y, 0.05) == pytest.approx(4 / 5)


def test_kendall_batch_on_views_with_nonfinite_and_tiny_inputs() -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 6, size=(9, 400)).astype(float)
    base[::2, ::7] = np.nan
    base[1, ::5] = np.inf
    base[3, ::3] = -np.inf
    X = base[:, ::2]  # a strided view, as the fitness passes per-problem column slices
    y = rng.integers(0, 40, size=200).astype(float)
    clean = np.where(np.isfinite(X), X, -1.0)  # non-finite rule: tied below every finite value
    want = [kendalltau(x, y).statistic for x in clean]
    np.testing.assert_allclose(kendall_batch(X, y), want, atol=1e-12)
    assert np.isnan(kendall_batch(np.ones((2, 1)), np.ones(1))).all()  # one row: undefined, not 0
    assert kendall_batch(np.array([[1.0, 2.0]]), np.array([2.0, 1.0]))[0] == pytest.approx(-1.0)


def test_nonfinite_targets_are_dropped_by_every_metric() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=250), rng.normal(size=250)
    y_nan = y.copy()
    y_nan[[3, 50, 99, 100, 249]] = [np.nan, np.inf, -np.inf, np.nan, np.nan]
    keep = np.isfinite(y_nan)
    assert n_scored(y_nan) == 245
    assert kendall(x, y_nan) == pytest.approx(kendalltau(x[keep], y[keep]).statistic, abs=1e-12)
    assert spearman(x, y_nan) == pytest.approx(spearmanr(x[keep], y[keep]).statistic, abs=1e-12)
    assert top_k_precision(x, y_nan) == top_k_precision(x[keep], y[keep])
    np.testing.assert_allclose(spearman_batch(np.stack([x, -x]), y_nan),
                               [spearmanr(x[keep], y[keep]).statistic, -spearmanr(x[keep], y[keep]).statistic])


def test_metrics_are_undefined_over_fewer_than_two_rows() -> None:
    for n in (0, 1):
        assert np.isnan(kendall(np.ones(n), np.ones(n)))
        assert np.isnan(spearman(np.ones(n), np.ones(n)))
        assert np.isnan(top_k_precision(np.ones(n), np.ones(n)))
    assert np.isnan(kendall([1.0, 2.0, 3.0], [1.0, np.nan, np.nan]))  # one finite target left


def test_top_k_ties_share_fairly_whatever_the_row_order() -> None:
    y = np.arange(200, dtype=float)
    const = np.zeros(200)
    # a constant score carries no information: the chance value k/n, also when rows are sorted by accuracy
    assert top_k_precision(const, y) == pytest.approx(10 / 200)
    assert top_k_precision(const, y[::-1]) == pytest.approx(10 / 200)
    # 5 archs clearly first, then a tie of 20 for the other 5 places: the true top 10 are 190..199
    x = np.zeros(200)
    x[195:] = 10.0  # 5 of the true top, certain
    x[170:190] = 5.0  # 20 tied, none of them in the true top 10
    x[190:195] = 5.0  # ... and these 5 of the true top tie with them: each has 5/25 chance
    assert top_k_precision(x, y) == pytest.approx((5 + 5 * 5 / 25) / 10)
    perm = np.random.default_rng(0).permutation(200)
    assert top_k_precision(x[perm], y[perm]) == pytest.approx(top_k_precision(x, y))


@pytest.mark.parametrize(("n", "levels"), [(60, 8), (700, 6), (700, 10_000)])
def test_bootstrap_kernel_equals_direct_tau_on_each_resample(n: int, levels: int) -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 5, size=n).astype(float)
    x[::9] = np.nan
    x[4::31] = np.inf  # non-finite scores count as -inf, like NaN
    y = rng.integers(0, levels, size=n).astype(float)  # long tie runs of y (levels 6) and nearly none
    idx = rng.integers(0, n, size=(25, n))
    want = [kendall(x[i], y[i]) for i in idx]
    np.testing.assert_allclose(kendall_bootstrap(x, y, idx), want, atol=1e-12)
    half = idx[:, : n // 2]  # a resample smaller than the sample
    np.testing.assert_allclose(kendall_bootstrap(x, y, half), [kendall(x[i], y[i]) for i in half], atol=1e-12)


def test_average_ranks_equal_scipy_rankdata_with_ties_infinities_and_nan() -> None:
    from scipy.stats import rankdata

    from evoproxy.metrics import average_ranks

    rng = np.random.default_rng(3)
    X = rng.integers(0, 6, size=(20, 41)).astype(float)
    X[:, ::5] = -np.inf
    X[:, 1::9] = np.inf
    np.testing.assert_array_equal(average_ranks(X), rankdata(X, axis=1))
    np.testing.assert_array_equal(average_ranks(X[3]), rankdata(X[3]))
    x = np.array([2.0, np.nan, 1.0, 2.0, np.nan])  # NaN stays NaN and takes no rank
    np.testing.assert_array_equal(average_ranks(x), [2.5, np.nan, 1.0, 2.5, np.nan])
    assert average_ranks(np.empty((2, 0))).shape == (2, 0)


def _savage_direct(x: np.ndarray) -> np.ndarray:
    """Savage scores the slow way: rank r from the top (ties: every tied position) -> mean of sum_{j=r}^{n} 1/j."""
    n = len(x)
    tail = np.array([sum(1 / j for j in range(r, n + 1)) for r in range(1, n + 1)])
    out = np.empty(n)
    for i, v in enumerate(x):
        above, tied = int((x > v).sum()), int((x == v).sum())
        out[i] = tail[above:above + tied].mean()
    return out


@pytest.mark.parametrize("levels", [4, 10_000])
def test_topdown_equals_pearson_of_savage_scores_with_ties(levels: int) -> None:
    rng = np.random.default_rng(levels)
    X = rng.integers(0, levels, size=(12, 97)).astype(float)
    y = rng.integers(0, levels, size=97).astype(float)
    want = [np.corrcoef(_savage_direct(x), _savage_direct(y))[0, 1] for x in X]
    np.testing.assert_allclose(topdown_batch(X, y), want, atol=1e-12)
    np.testing.assert_allclose(savage_scores(y), _savage_direct(y), atol=1e-12)
    assert savage_scores(X).mean(axis=1) == pytest.approx(np.ones(12))


def test_topdown_closed_form_and_top_weighting() -> None:
    n = 50
    y = np.arange(n, dtype=float)
    x = np.random.default_rng(1).permutation(n).astype(float)
    h = sum(1 / j for j in range(1, n + 1))
    # Iman & Conover (1987): r_T = (sum S_x S_y - n) / (n - S_1), S_1 = H_n, for untied data
    assert topdown_batch(x[None], y)[0] == pytest.approx(((savage_scores(x) * savage_scores(y)).sum() - n) / (n - h))
    swap_top, swap_bottom = y.copy(), y.copy()
    swap_top[[-1, -2]] = swap_top[[-2, -1]]
    swap_bottom[[0, 1]] = swap_bottom[[1, 0]]
    td = topdown_batch(np.stack([y, swap_top, swap_bottom, -y, np.ones(n)]), y)
    assert td[0] == pytest.approx(1.0)
    assert td[1] < td[2] < 1.0  # the same one swap costs more at the top than at the bottom
    assert spearman(swap_top, y) == pytest.approx(spearman(swap_bottom, y))  # Spearman cannot tell them apart
    assert -1.0 < td[3] < -0.5 and td[4] == 0.0  # the reverse order; a constant prediction


def test_topdown_follows_the_nonfinite_rules() -> None:
    y = np.arange(6, dtype=float)
    x = np.array([np.nan, np.inf, -np.inf, 3.0, 4.0, 5.0])
    same = np.array([0.0, 0.0, 0.0, 3.0, 4.0, 5.0])
    assert topdown_batch(x[None], y)[0] == pytest.approx(topdown_batch(same[None], y)[0])
    y_nan = np.r_[y, np.nan]
    assert topdown_batch(np.r_[same, 9.0][None], y_nan)[0] == pytest.approx(topdown_batch(same[None], y)[0])
    assert np.isnan(topdown_batch(np.ones((1, 1)), np.ones(1))[0])
