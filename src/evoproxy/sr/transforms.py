"""Terminal transforms applied to each proxy column before a formula sees it.

- ``none``: values as released;
- ``signed_log``: ``sign(x) * log1p(|x|)`` (row-wise; tames proxies spanning many orders of magnitude);
- ``rank``: average-tie ranks scaled to (0, 1] over the rows being evaluated (kept for old runs; ``ecdf`` is the
  same idea with an explicit reference);
- ``ecdf``: the calibrated transform. Each value is mapped through the empirical CDF of a *reference sample* of the
  same problem: the training split during evolution, the evaluated rows when scoring a table, and in NAS (or for one
  architecture) a reference sample of random archs of the space. At a reference value it is the mid-rank ECDF
  ``F(x) = (#{r < x} + #{r == x} / 2) / #R``; between reference values it is interpolated linearly, and beyond the
  reference's range it approaches 0 or 1 hyperbolically (scale: the mean gap between distinct reference values), so it
  is strictly increasing: two architectures that a small reference cannot separate (both above its maximum) keep
  their order. The result lies in (0, 1) whatever the proxy's scale, so a formula means the same on every space, task
  and minibatch size (jacov is about -N for a batch of N; its ECDF is not; an affine map of a proxy leaves it
  unchanged), and one architecture gets exactly the value its row would get inside a table with the same reference.
  When the evaluated rows are the reference (evolution, scoring a table, lookup NAS) only the mid-rank values occur.

Missing values: a non-finite value is NaN, and NaN stays NaN under every transform (the row ranks last). A proxy
that the reference lacks altogether (absent, or all-NaN) takes the neutral calibrated value :data:`ABSENT` = 0.5
under ``ecdf`` (the median of any reference), so a calibrated formula degrades to a formula of the proxies the
problem has (``add(nwot, flops)`` ranks like ``flops`` where nwot is absent) instead of failing.
"""

from __future__ import annotations

import numpy as np

from evoproxy.metrics import average_ranks

TRANSFORMS = ("none", "signed_log", "rank", "ecdf")
POPULATION_TRANSFORMS = ("rank", "ecdf")
"""Transforms whose value depends on other archs (the rows evaluated, or a reference sample)."""
ABSENT = 0.5
"""Calibrated value of a proxy the reference lacks altogether (neutral: the median)."""


def absent_value(transform: str) -> float:
    """What a proxy a problem lacks altogether evaluates to under ``transform``: NaN, or :data:`ABSENT` (ecdf)."""
    return ABSENT if transform == "ecdf" else np.nan


def ecdf(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Calibrated value of each of ``values`` against ``reference`` (its finite values; see the module docstring);
    NaN stays NaN; a reference without finite values (the proxy is absent) gives :data:`ABSENT` everywhere."""
    x = np.asarray(values, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    ref = ref[np.isfinite(ref)]
    if not ref.size:
        return np.full(x.shape, ABSENT)
    knots, counts = np.unique(ref, return_counts=True)
    heights = (np.cumsum(counts) - counts / 2.0) / ref.size  # mid-rank ECDF at each distinct reference value
    gap = (knots[-1] - knots[0]) / (knots.size - 1) if knots.size > 1 else max(abs(knots[0]), 1.0)
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    v = x[ok]
    f = np.interp(v, knots, heights)
    low, high = v < knots[0], v > knots[-1]
    f[low] = heights[0] / (1.0 + (knots[0] - v[low]) / gap)  # hyperbolic tails: no float saturation for
    f[high] = 1.0 - (1.0 - heights[-1]) / (1.0 + (v[high] - knots[-1]) / gap)  # any realistic distance
    out[ok] = f
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
            out[ok] = average_ranks(x[ok]) / ok.sum()
        return out
    raise ValueError(f"unknown terminal transform {transform!r}; expected one of {', '.join(TRANSFORMS)}")
