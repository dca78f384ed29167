"""Rank correlations for one vector or a whole population at once.

Non-finite rule (used by every consumer): a score that is NaN, +inf or -inf carries no ranking information, so it
is mapped to -inf, i.e. tied at the very bottom of the ranking. A prediction that is constant (or entirely
non-finite) has correlation 0 by definition here (tau-b and rho are undefined for it), so such formulas lose
instead of crashing. The target ``y`` must be finite; callers drop rows whose target is not.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def sanitize(x: np.ndarray) -> np.ndarray:
    """Apply the non-finite rule: NaN and +/-inf become -inf (ranked last, tied)."""
    x = np.array(x, dtype=np.float64, copy=True)
    x[~np.isfinite(x)] = -np.inf
    return x


@numba.njit(cache=True)
def _insertion_sort(a: np.ndarray, lo: int, hi: int) -> int:
    """Sort ``a[lo:hi]`` ascending in place (stable); return its number of inversions (one per shift)."""
    count = 0
    for i in range(lo + 1, hi):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        count += i - 1 - j
        a[j + 1] = v
    return count


@numba.njit(cache=True)
def _sort_count(a: np.ndarray, tmp: np.ndarray) -> int:
    """Sort ``a`` ascending in place (stable merge sort, insertion-sorted runs of 16); return the number of pairs
    i<j with a[i] > a[j] (inversions)."""
    n = a.shape[0]
    count = 0
    run = 16
    for lo in range(0, n, run):
        count += _insertion_sort(a, lo, min(lo + run, n))
    width = run
    src, dst = a, tmp
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            if mid >= hi or src[mid - 1] <= src[mid]:
                for t in range(lo, hi):
                    dst[t] = src[t]
                continue
            while i < mid and j < hi:
                if src[j] < src[i]:
                    dst[k] = src[j]
                    count += mid - i
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    if src is not a:
        for t in range(n):
            a[t] = src[t]
    return count


@numba.njit(cache=True)
def _inversions(a: np.ndarray) -> int:
    """Number of pairs i<j with a[i] > a[j] (merge sort of a copy, O(n log n))."""
    return _sort_count(a.copy(), np.empty_like(a))


@numba.njit(cache=True)
def _tie_pairs(sorted_vals: np.ndarray) -> int:
    total = 0
    run = 1
    for i in range(1, sorted_vals.shape[0]):
        if sorted_vals[i] == sorted_vals[i - 1]:
            run += 1
        else:
            total += run * (run - 1) // 2
            run = 1
    return total + run * (run - 1) // 2


@numba.njit(cache=True)
def _tau_b_sorted(xs: np.ndarray, yp: np.ndarray, n2: int) -> float:
    """tau-b from ``xs`` sorted ascending with the matching ``yp`` (ties in x by ascending y); ``n2`` = y tie pairs."""
    n = xs.shape[0]
    if n < 2:
        return 0.0
    n0 = n * (n - 1) // 2
    n1 = _tie_pairs(xs)
    n3 = 0  # joint ties: runs where both x and y are equal
    run = 1
    for i in range(1, n):
        if xs[i] == xs[i - 1] and yp[i] == yp[i - 1]:
            run += 1
        else:
            n3 += run * (run - 1) // 2
            run = 1
    n3 += run * (run - 1) // 2
    swaps = _inversions(yp)
    if (n0 - n1) * (n0 - n2) <= 0:
        return 0.0
    return (n0 - n1 - n2 + n3 - 2 * swaps) / math.sqrt(float(n0 - n1)) / math.sqrt(float(n0 - n2))


@numba.njit(cache=True)
def kendall_njit(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b of one finite pair of vectors, callable from other numba code (e.g. bootstrap loops)."""
    p = np.argsort(y, kind="mergesort")
    p = p[np.argsort(x[p], kind="mergesort")]  # sorted by x, then y
    return _tau_b_sorted(x[p], y[p], _tie_pairs(np.sort(y)))


@numba.njit(cache=True)
def _kendall_yorder(X: np.ndarray, order: np.ndarray, bounds: np.ndarray, n2: int) -> np.ndarray:
    """tau-b of every row of ``X`` against y, given y's stable ascending ``order`` and the ``bounds`` of its tie runs.

    Knight's algorithm with one sort per row: the row's values in y order, sorted within each y-tie run, are in
    (y, x) order, so the inversions counted while merge-sorting them are exactly the discordant pairs; the joint
    ties come from the within-run sort and the x ties from the sorted result. Non-finite values count as -inf.
    """
    m = X.shape[0]
    n = order.shape[0]
    out = np.zeros(m)
    if n < 2:
        return out
    n0 = n * (n - 1) // 2
    a = np.empty(n)
    tmp = np.empty(n)
    G = bounds.shape[0] - 1
    for r in range(m):
        for k in range(n):
            v = X[r, order[k]]
            a[k] = v if np.isfinite(v) else -np.inf
        n3 = 0
        for g in range(G):
            s, e = bounds[g], bounds[g + 1]
            if e - s > 32:
                a[s:e] = np.sort(a[s:e])
            elif e - s > 1:
                _insertion_sort(a, s, e)  # tie runs are short
            if e - s > 1:
                n3 += _tie_pairs(a[s:e])
        d = _sort_count(a, tmp)
        n1 = _tie_pairs(a)
        if (n0 - n1) * (n0 - n2) > 0:
            out[r] = (n0 - n1 - n2 + n3 - 2 * d) / math.sqrt(float(n0 - n1)) / math.sqrt(float(n0 - n2))
    return out


def _y_order(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Stable ascending order of ``y``, the bounds of its tie runs in that order, and its number of tied pairs."""
    order = np.argsort(y, kind="stable")
    ys = y[order]
    bounds = np.concatenate([[0], np.flatnonzero(ys[1:] != ys[:-1]) + 1, [len(y)]]).astype(np.int64)
    g = np.diff(bounds)
    return order, bounds, int((g * (g - 1) // 2).sum())


def kendall_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b of every row of ``X`` (m, n) against ``y`` (n,), exact, O(m n log n) (one merge sort per row)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    order, bounds, n2 = _y_order(np.asarray(y, dtype=np.float64))
    return _kendall_yorder(X, order, bounds, n2)


def spearman_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho (Pearson of average-tie ranks) of every row of ``X`` against ``y``."""
    from scipy.stats import rankdata  # lazy: scipy.stats takes ~0.7 s to import

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    X = np.where(np.isfinite(X), X, -np.inf)
    rx = rankdata(X, axis=1)
    ry = rankdata(np.asarray(y, dtype=np.float64))
    rx = rx - rx.mean(axis=1, keepdims=True)
    ry = ry - ry.mean()
    num = rx @ ry
    den = np.sqrt((rx * rx).sum(axis=1) * (ry @ ry))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return rho


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b of one prediction vector (non-finite rule applied)."""
    return float(kendall_batch(np.asarray(x)[None, :], y)[0])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho of one prediction vector (non-finite rule applied)."""
    return float(spearman_batch(np.asarray(x)[None, :], y)[0])


def top_k_precision(x: np.ndarray, y: np.ndarray, fraction: float = 0.05) -> float:
    """Share of the true top ``fraction`` of archs (by ``y``) that are in the top ``fraction`` by ``x``.

    ``k = max(1, ceil(fraction * n))``; ties are broken by row order (stable sort); non-finite rule applies.
    """
    x = sanitize(x)
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if n == 0:
        return float("nan")
    k = max(1, math.ceil(fraction * n))
    true_top = np.argsort(-y, kind="stable")[:k]
    pred_top = np.argsort(-x, kind="stable")[:k]
    return len(np.intersect1d(true_top, pred_top)) / k
