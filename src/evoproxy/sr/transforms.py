"""Per-problem terminal transforms applied to proxy columns before a formula sees them.

- ``none``: values as released;
- ``signed_log``: ``sign(x) * log1p(|x|)`` (row-wise; tames proxies spanning many orders of magnitude);
- ``rank``: average-tie ranks scaled to (0, 1] over the rows of the table being evaluated (so it depends on which
  rows are present: the training split during evolution, the evaluated split when scoring).

NaN stays NaN under every transform.
"""

from __future__ import annotations

import numpy as np

TRANSFORMS = ("none", "signed_log", "rank")


def apply(values: np.ndarray, transform: str) -> np.ndarray:
    """Transform one proxy column; non-finite entries become NaN."""
    x = np.asarray(values, dtype=np.float64)
    x = np.where(np.isfinite(x), x, np.nan)
    if transform == "none":
        return x
    if transform == "signed_log":
        return np.sign(x) * np.log1p(np.abs(x))
    if transform == "rank":
        out = np.full_like(x, np.nan)
        ok = ~np.isnan(x)
        if ok.any():
            from scipy.stats import rankdata  # lazy: importing scipy.stats takes ~0.7 s per process

            out[ok] = rankdata(x[ok]) / ok.sum()
        return out
    raise ValueError(f"unknown terminal transform {transform!r}; expected one of {', '.join(TRANSFORMS)}")
