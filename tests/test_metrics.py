"""Batched rank correlations against scipy, the non-finite rule, and top-k precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from evoproxy.metrics import kendall, kendall_batch, spearman, spearman_batch, top_k_precision


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
    assert kendall_batch(np.ones((2, 1)), np.ones(1)).tolist() == [0.0, 0.0]
    assert kendall_batch(np.array([[1.0, 2.0]]), np.array([2.0, 1.0]))[0] == pytest.approx(-1.0)
