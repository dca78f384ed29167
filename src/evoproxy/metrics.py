"""Rank metrics for one vector or a whole population at once, and the one rule for awkward values in scoring.

Every consumer (GP fitness, score, evaluate, baselines, NAS tables) scores through these functions, so the rule
below holds everywhere:

- **Scores**: NaN, +inf and -inf carry no ranking information: they rank last, tied (:func:`sanitize`).
- **Targets**: a row whose target is not finite is dropped before any metric (:func:`finite_rows`); ``n`` counts the
  rows that remain.
- **Undefined values**: with fewer than :data:`MIN_ROWS` rows a metric is NaN (never a number over an empty or one-row
  split); a constant prediction (or an entirely non-finite one) has correlation 0, so formulas producing one lose
  instead of crashing.
- **Top-k precision**: tied scores share the top k fairly (expected overlap under a uniformly random order of the
  ties), so a constant score gets the chance value k/n whatever the row order.
"""

from __future__ import annotations

import math

import numba
import numpy as np

MIN_ROWS = 2
"""Fewest rows (with a finite target) over which a metric is defined."""


def sanitize(x: np.ndarray) -> np.ndarray:
    """Apply the score rule: NaN and +/-inf become -inf (ranked last, tied)."""
    x = np.array(x, dtype=np.float64, copy=True)
    x[~np.isfinite(x)] = -np.inf
    return x


def rank_score(score: float) -> float:
    """The score rule for one value: a non-finite score becomes -inf (ranked last)."""
    return score if math.isfinite(score) else -math.inf


def finite_rows(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows whose target is finite (the target rule)."""
    return np.isfinite(np.asarray(y, dtype=np.float64))


# --------------------------------------------------------------------------------------------------- Kendall tau-b
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
def _tie_runs(ys: np.ndarray) -> tuple[np.ndarray, int]:
    """Bounds of the tie runs of sorted ``ys`` and its number of tied pairs."""
    n = ys.shape[0]
    bounds = np.empty(n + 1, dtype=np.int64)
    g = 0
    bounds[0] = 0
    n2 = 0
    for i in range(1, n):
        if ys[i] != ys[i - 1]:
            g += 1
            bounds[g] = i
            s = bounds[g] - bounds[g - 1]
            n2 += s * (s - 1) // 2
    g += 1
    bounds[g] = n
    s = bounds[g] - bounds[g - 1]
    n2 += s * (s - 1) // 2
    return bounds[: g + 1], n2


@numba.njit(cache=True)
def _tau_yordered(a: np.ndarray, bounds: np.ndarray, n2: int, tmp: np.ndarray) -> float:
    """tau-b of one prediction row given as its values in ascending-y order (``a``, sorted in place), with the
    ``bounds`` of y's tie runs and y's number of tied pairs ``n2``.

    Knight's algorithm with one sort: the values sorted within each y-tie run are in (y, x) order, so the inversions
    counted while merge-sorting them are exactly the discordant pairs; the joint ties come from the within-run sort
    and the x ties from the sorted result. Non-finite values count as -inf.
    """
    n = a.shape[0]
    if n < 2:
        return np.nan
    for k in range(n):
        if not np.isfinite(a[k]):
            a[k] = -np.inf
    n0 = n * (n - 1) // 2
    n3 = 0
    for g in range(bounds.shape[0] - 1):
        s, e = bounds[g], bounds[g + 1]
        if e - s > 32:
            a[s:e] = np.sort(a[s:e])
        elif e - s > 1:
            _insertion_sort(a, s, e)  # tie runs are short
        if e - s > 1:
            n3 += _tie_pairs(a[s:e])
    d = _sort_count(a, tmp)
    n1 = _tie_pairs(a)
    if (n0 - n1) * (n0 - n2) <= 0:
        return 0.0
    return (n0 - n1 - n2 + n3 - 2 * d) / math.sqrt(float(n0 - n1)) / math.sqrt(float(n0 - n2))


@numba.njit(cache=True)
def _kendall_rows(X: np.ndarray, order: np.ndarray, bounds: np.ndarray, n2: int) -> np.ndarray:
    """tau-b of every row of ``X`` against a y with stable ascending ``order`` (columns of X index y's rows)."""
    m, n = X.shape[0], order.shape[0]
    out = np.empty(m)
    a = np.empty(n)
    tmp = np.empty(n)
    for r in range(m):
        for k in range(n):
            a[k] = X[r, order[k]]
        out[r] = _tau_yordered(a, bounds, n2, tmp)
    return out


@numba.njit(cache=True)
def _kendall_resamples(rx: np.ndarray, bounds: np.ndarray, position: np.ndarray, idx: np.ndarray,
                       n_ranks: int) -> np.ndarray:
    """tau-b on each row of resample indices ``idx`` (bootstrap) of a sample given in ascending-y order: ``rx`` the
    dense x rank of each row, ``bounds`` y's tie runs, ``position`` where each original row sits in that order.

    A resample is a multiset of rows, so it is its count per row; the counts are swept once in y order with a
    Fenwick tree of the x ranks already passed (each row's discordant pairs are the passed weight above its rank),
    and the tied pairs come from the count per x rank, per y run and per (x, y) pair. No resample is sorted: the
    same integer pair counts as Knight's algorithm in about a third of its time."""
    b_count, m = idx.shape
    n = rx.shape[0]
    counts = np.empty(n, dtype=np.int64)
    tree = np.empty(n_ranks + 1, dtype=np.int64)
    per_rank = np.empty(n_ranks, dtype=np.int64)
    joint = np.zeros(n_ranks, dtype=np.int64)
    out = np.empty(b_count)
    n0 = m * (m - 1) // 2
    for b in range(b_count):
        counts[:] = 0
        tree[:] = 0
        per_rank[:] = 0
        for k in range(m):
            counts[position[idx[b, k]]] += 1
        d = 0
        n2 = 0
        n3 = 0
        passed = 0
        for g in range(bounds.shape[0] - 1):
            s, e = bounds[g], bounds[g + 1]
            w = 0
            for i in range(s, e):  # query every row of the y run before inserting any (a y tie is not discordant)
                c = counts[i]
                if c == 0:
                    continue
                below = 0
                j = rx[i] + 1
                while j > 0:
                    below += tree[j]
                    j -= j & (-j)
                d += c * (passed - below)
                w += c
                joint[rx[i]] += c
            for i in range(s, e):
                c = counts[i]
                if c == 0:
                    continue
                r = rx[i]
                j = r + 1
                while j <= n_ranks:
                    tree[j] += c
                    j += j & (-j)
                per_rank[r] += c
                if joint[r] > 0:
                    n3 += joint[r] * (joint[r] - 1) // 2
                    joint[r] = 0
            passed += w
            n2 += w * (w - 1) // 2
        n1 = 0
        for r in range(n_ranks):
            n1 += per_rank[r] * (per_rank[r] - 1) // 2
        if m < 2:
            out[b] = np.nan
        elif (n0 - n1) * (n0 - n2) <= 0:
            out[b] = 0.0
        else:
            out[b] = (n0 - n1 - n2 + n3 - 2 * d) / math.sqrt(float(n0 - n1)) / math.sqrt(float(n0 - n2))
    return out


def _finite_target_columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64)
    if X.shape[1] != y.shape[0]:
        raise ValueError(f"predictions have {X.shape[1]} columns for {y.shape[0]} targets")
    ok = finite_rows(y)
    if not ok.all():
        X, y = X[:, ok], y[ok]
    return X, y


def kendall_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b of every row of ``X`` (m, n) against ``y`` (n,), exact, O(m n log n) (one merge sort per row)."""
    X, y = _finite_target_columns(X, y)
    order = np.argsort(y, kind="stable")
    bounds, n2 = _tie_runs(y[order])
    return _kendall_rows(X, order, bounds, n2)


def kendall_bootstrap(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Kendall tau-b of ``x`` against ``y`` on each resample (a row of indices into the finite-target rows) of
    ``idx``."""
    X, y = _finite_target_columns(x, y)
    order = np.argsort(y, kind="stable")
    position = np.empty(order.shape[0], dtype=np.int64)
    position[order] = np.arange(order.shape[0])
    xs = X[0][order]
    ranks, rx = np.unique(np.where(np.isfinite(xs), xs, -np.inf), return_inverse=True)  # non-finite: -inf
    bounds, _ = _tie_runs(y[order])
    return _kendall_resamples(rx.astype(np.int64), bounds, position, np.asarray(idx, dtype=np.int64), ranks.shape[0])


@numba.njit(cache=True)
def _average_ranks_rows(X: np.ndarray) -> np.ndarray:
    """Average-tie ranks (1..n) of each row of ``X``; NaN entries stay NaN and take no rank."""
    m, n = X.shape
    out = np.empty((m, n))
    for r in range(m):
        row = X[r]
        order = np.argsort(row)  # NaN sorts last; the order within ties does not matter
        i = 0
        while i < n:
            v = row[order[i]]
            if np.isnan(v):
                for k in range(i, n):
                    out[r, order[k]] = np.nan
                break
            j = i + 1
            while j < n and row[order[j]] == v:
                j += 1
            rank = (i + 1 + j) / 2.0  # the mean of ranks i+1 .. j
            for k in range(i, j):
                out[r, order[k]] = rank
            i = j
    return out


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n along the last axis, ties sharing their average rank (``scipy.stats.rankdata``'s default; NaN
    stays NaN, as in pandas), by one compiled sort per row (scipy.stats costs a second to import, pandas' row-wise
    rank is several times slower)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return _average_ranks_rows(x[None, :])[0]
    return _average_ranks_rows(np.ascontiguousarray(x))


def spearman_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho (Pearson of average-tie ranks) of every row of ``X`` against ``y``."""
    X, y = _finite_target_columns(X, y)
    if y.shape[0] < MIN_ROWS:
        return np.full(X.shape[0], np.nan)
    return _pearson_rows(average_ranks(np.where(np.isfinite(X), X, -np.inf)), average_ranks(y))


def _pearson_rows(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of the scores ``sx`` (m, n) with ``sy`` (n,); 0 for a constant row (a
    constant prediction carries no ranking)."""
    sx = sx - sx.mean(axis=1, keepdims=True)
    sy = sy - sy.mean()
    num = sx @ sy
    den = np.sqrt((sx * sx).sum(axis=1) * (sy @ sy))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, num / np.where(den > 1e-12, den, 1.0), 0.0)


@numba.njit(cache=True)
def _savage_scores_rows(X: np.ndarray) -> np.ndarray:
    """Savage scores of each row of ``X`` (no NaN): the value ranked ``r``-th from the top scores
    ``sum_{j=r}^{n} 1/j``; tied values share the mean score of the positions they span."""
    m, n = X.shape
    tail = np.zeros(n + 2)  # tail[r] = sum_{j=r}^{n} 1/j, r = 1..n
    for r in range(n, 0, -1):
        tail[r] = tail[r + 1] + 1.0 / r
    cum = np.empty(n + 1)  # cum[i] = sum of the scores of descending positions 1..i
    cum[0] = 0.0
    for i in range(1, n + 1):
        cum[i] = cum[i - 1] + tail[i]
    out = np.empty((m, n))
    for r in range(m):
        row = X[r]
        order = np.argsort(-row)  # descending; the order within ties does not matter
        i = 0
        while i < n:
            v = row[order[i]]
            j = i + 1
            while j < n and row[order[j]] == v:
                j += 1
            score = (cum[j] - cum[i]) / (j - i)  # mean over descending positions i+1 .. j
            for k in range(i, j):
                out[r, order[k]] = score
            i = j
    return out


def savage_scores(x: np.ndarray) -> np.ndarray:
    """Savage scores along the last axis (the top value scores ``H_n``, the last ``1/n``, ties share their mean);
    their mean is 1. Non-finite values follow the score rule (ranked last, tied)."""
    x = np.where(np.isfinite(x), np.asarray(x, dtype=np.float64), -np.inf)
    if x.ndim == 1:
        return _savage_scores_rows(x[None, :])[0]
    return _savage_scores_rows(np.ascontiguousarray(x))


def topdown_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Top-down correlation (Iman & Conover 1987) of every row of ``X`` against ``y``: the Pearson correlation of
    their Savage scores, a rank correlation that weighs agreement on the top of both orderings most (the top row's
    score is ``ln n`` times the median row's), where NAS picks its architecture. 1 for the same order, near -1 for
    the reverse; a constant prediction gets 0."""
    X, y = _finite_target_columns(X, y)
    if y.shape[0] < MIN_ROWS:
        return np.full(X.shape[0], np.nan)
    return _pearson_rows(savage_scores(X), savage_scores(y))


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b of one prediction vector."""
    return float(kendall_batch(np.asarray(x)[None, :], y)[0])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho of one prediction vector."""
    return float(spearman_batch(np.asarray(x)[None, :], y)[0])


def n_scored(y: np.ndarray) -> int:
    """Rows a metric is computed over (finite target)."""
    return int(finite_rows(y).sum())


# ------------------------------------------------------------------------------------------------ top-k precision
def _in_top_k(v: np.ndarray, k: int) -> np.ndarray:
    """Probability that each entry is among the top ``k`` when ties are ordered uniformly at random."""
    threshold = np.partition(v, v.shape[0] - k)[v.shape[0] - k]
    above = v > threshold
    tied = v == threshold
    w = above.astype(np.float64)
    w[tied] = (k - int(above.sum())) / int(tied.sum())
    return w


def top_k_precision(x: np.ndarray, y: np.ndarray, fraction: float = 0.05) -> float:
    """Share of the true top ``fraction`` of archs (by ``y``) that are in the top ``fraction`` by ``x``.

    ``k = max(1, ceil(fraction * n))``. Ties (in ``x`` or ``y``) share the top k fairly: the value is the expected
    overlap when tied entries are ordered uniformly at random, so it does not depend on row order.
    """
    x = sanitize(x)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"predictions have shape {x.shape} for targets of shape {y.shape}")
    ok = finite_rows(y)
    x, y = x[ok], y[ok]
    n = len(y)
    if n < MIN_ROWS:
        return float("nan")
    k = max(1, math.ceil(fraction * n))
    return float(_in_top_k(x, k) @ _in_top_k(y, k) / k)
