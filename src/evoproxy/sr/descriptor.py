"""A label-free fingerprint of a NAS problem: how its proxies rank architectures relative to each other.

The descriptor of a set of rows (a problem's train split, the rows of a table being scored, or a reference sample of
random architectures of a space) is the Spearman correlation of every pair of proxies it has, computed on the ranks
of the score rule (:func:`evoproxy.metrics.sanitize`: a non-finite value ranks last). It needs no accuracies, is
unchanged by any increasing map of a proxy (so by the minibatch size that shifts jacov), and tells problems apart
by how their proxies agree: on the train splits of the 13 paper problems two tasks of one search space are at RMS
distance .03-.32 (median .19, 15 pairs) and two problems of different spaces at .18-.61 (median .43, 63 pairs).
It gates the specialists of a reference-gated final proxy (:mod:`evoproxy.sr.gated`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evoproxy import PROXIES
from evoproxy.metrics import average_ranks, sanitize

Descriptor = dict[str, float]
"""Pair key ``"<proxy>|<proxy>"`` (canonical proxy order) -> Spearman correlation."""
MIN_ROWS = 10
"""Fewest rows a descriptor is computed from (fewer: an empty descriptor, at infinite distance from every other)."""


def pair_key(a: str, b: str) -> str:
    return f"{a}|{b}"


def descriptor(columns: Mapping[str, np.ndarray], proxies: Sequence[str] = PROXIES) -> Descriptor:
    """Spearman correlation of every pair of ``proxies`` that ``columns`` has with finite, non-constant values."""
    have = [p for p in proxies if p in columns and np.isfinite(np.asarray(columns[p], dtype=np.float64)).any()]
    if not have or len(np.asarray(columns[have[0]])) < MIN_ROWS:
        return {}
    ranks = np.stack([average_ranks(sanitize(np.asarray(columns[p], dtype=np.float64))) for p in have])
    ranks -= ranks.mean(axis=1, keepdims=True)
    norm = np.sqrt((ranks**2).sum(axis=1))
    out: Descriptor = {}
    for i in range(len(have)):
        for j in range(i + 1, len(have)):
            if norm[i] > 0 and norm[j] > 0:
                out[pair_key(have[i], have[j])] = float(ranks[i] @ ranks[j] / (norm[i] * norm[j]))
    return out


def descriptor_of(rows: Any, proxies: Sequence[str] = PROXIES) -> Descriptor:
    """:func:`descriptor` of anything that gives a proxy column by ``rows.values(proxy)`` (all-NaN when absent): a
    ProblemTable, a train split, a reference sample."""
    return descriptor({p: rows.values(p) for p in proxies}, proxies)


def distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """RMS difference over the pairs both descriptors have; infinite when they share none."""
    shared = [k for k in a if k in b]
    if not shared:
        return float("inf")
    return float(np.sqrt(np.mean([(a[k] - b[k]) ** 2 for k in shared])))
