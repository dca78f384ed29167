"""The label-free problem descriptor: Spearman correlations between proxies, and the distance between problems."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from evoproxy.sr.descriptor import MIN_ROWS, descriptor, distance


def _columns(rng: np.random.Generator, n: int, coupling: float) -> dict[str, np.ndarray]:
    base = rng.normal(size=n)
    return {"flops": base + rng.normal(scale=0.3, size=n),
            "nwot": coupling * base + rng.normal(size=n),
            "jacov": -base + rng.normal(scale=2.0, size=n)}


def test_descriptor_is_spearman_with_non_finite_ranked_last_and_ignores_increasing_maps() -> None:
    rng = np.random.default_rng(0)
    cols = _columns(rng, 300, 1.0)
    d = descriptor(cols)
    assert list(d) == ["flops|jacov", "flops|nwot", "jacov|nwot"]  # pairs in the canonical proxy order
    assert abs(d["flops|nwot"] - spearmanr(cols["flops"], cols["nwot"]).statistic) < 1e-12
    shifted = {**cols, "jacov": cols["jacov"] - 64.0, "flops": np.exp(cols["flops"])}  # batch shift, log scale
    assert descriptor(shifted) == d
    holes = {**cols, "nwot": np.where(np.arange(300) % 7 == 0, np.nan, cols["nwot"])}
    lowest = np.where(np.isnan(holes["nwot"]), -np.inf, holes["nwot"])
    expected = spearmanr(cols["flops"], np.where(np.isinf(lowest), lowest[np.isfinite(lowest)].min() - 1, lowest))
    assert abs(descriptor(holes)["flops|nwot"] - expected.statistic) < 1e-12


def test_distance_separates_problems_by_how_their_proxies_agree() -> None:
    rng = np.random.default_rng(1)
    a, a2, b = (descriptor(_columns(rng, 2000, c)) for c in (1.0, 1.0, -1.0))
    assert distance(a, a) == 0.0 and distance(a, b) == distance(b, a)
    assert distance(a, a2) < 0.05 < distance(a, b)
    assert distance(a, {"params|zen": 0.3}) == float("inf")  # nothing shared
    only_flops = descriptor({"flops": np.arange(50.0), "nwot": np.full(50, np.nan)})
    assert only_flops == {}  # a single proxy (the other absent) has no pair
    assert descriptor({"flops": np.arange(MIN_ROWS - 1.0), "nwot": np.arange(MIN_ROWS - 1.0)}) == {}
    assert descriptor({"flops": np.arange(30.0), "nwot": np.ones(30)}) == {}  # constant: no correlation
