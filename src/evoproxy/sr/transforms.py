"""Terminal transforms applied to each proxy column before a formula sees it.

- ``none``: values as released;
- ``signed_log``: ``sign(x) * log1p(|x|)`` (row-wise; tames proxies spanning many orders of magnitude);
- ``rank``: average-tie ranks scaled to (0, 1] over the rows being evaluated (kept for old runs; ``ecdf`` is the
  same idea with an explicit reference);
- ``ecdf``: the calibrated transform. Each value is mapped through the empirical CDF of a *reference sample* of the
  same problem, ``F(x) = (#{r < x} + #{r == x} / 2) / #R``: the training split during evolution, the evaluated rows
  when scoring a table, and in NAS (or for one architecture) a reference sample of random archs of the space. The
  result lies in [0, 1] whatever the proxy's scale, so a formula means the same on every space, task and minibatch
  size (jacov is about -N for a batch of N; its ECDF is not), and one architecture gets exactly the value its row
  would get inside a table with the same reference.

Missing values: a non-finite value is NaN, and NaN stays NaN under every transform (the row ranks last). A proxy
that the reference lacks altogether (absent, or all-NaN) takes the neutral calibrated value :data:`ABSENT` = 0.5
under ``ecdf`` (the median of any reference), so a calibrated formula degrades to a formula of the proxies the
problem has (``add(nwot, flops)`` ranks like ``flops`` where nwot is absent) instead of failing.
"""

from __future__ import annotations

import numpy as np

TRANSFORMS = ("none", "signed_log", "rank", "ecdf")
POPULATION_TRANSFORMS = ("rank", "ecdf")
"""Transforms whose value depends on other archs (the rows evaluated, or a reference sample)."""
ABSENT = 0.5
"""Calibrated value of a proxy the reference lacks altogether (neutral: the median)."""


def absent_value(transform: str) -> float:
    """What a proxy a problem lacks altogether evaluates to under ``transform``: NaN, or :data:`ABSENT` (ecdf)."""
    return ABSENT if transform == "ecdf" else np.nan


def ecdf(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mid-rank empirical CDF of ``reference`` (its finite values) at each of ``values``; NaN stays NaN; a reference
    without finite values (the proxy is absent) gives :data:`ABSENT` everywhere."""
    x = np.asarray(values, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    ref = np.sort(ref[np.isfinite(ref)])
    if not ref.size:
        return np.full(x.shape, ABSENT)
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    if ok.any():
        lo = np.searchsorted(ref, x[ok], side="left")
        hi = np.searchsorted(ref, x[ok], side="right")
        out[ok] = (lo + hi) / (2.0 * ref.size)
    return out


def apply(values: np.ndarray, transform: str, reference: np.ndarray | None = None) -> np.ndarray:
    """Transform one proxy column; ``reference`` is the calibration sample of ``ecdf`` (default: ``values``)."""
    x = np.asarray(values, dtype=np.float64)
    x = np.where(np.isfinite(x), x, np.nan)
    if transform == "none":
        return x
    if transform == "signed_log":
        return np.sign(x) * np.log1p(np.abs(x))
    if transform == "ecdf":
        return ecdf(x, x if reference is None else reference)
    if transform == "rank":
        out = np.full_like(x, np.nan)
        ok = ~np.isnan(x)
        if ok.any():
            from scipy.stats import rankdata  # lazy: importing scipy.stats takes ~0.7 s per process

            out[ok] = rankdata(x[ok]) / ok.sum()
        return out
    raise ValueError(f"unknown terminal transform {transform!r}; expected one of {', '.join(TRANSFORMS)}")
