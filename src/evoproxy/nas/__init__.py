"""Proxy-guided NAS: search algorithms (aging evolution, random search), objectives, result files and the table.

Modules: :mod:`.evolution` (algorithms, any search space), :mod:`.objective` (formula/proxy -> score, lookup and
online modes), :mod:`.results` (ground-truth accuracy for reporting, result JSON I/O), :mod:`.table` (aggregate
table and figure over seeds).
"""

from evoproxy.nas.evolution import (
    ALGORITHMS,
    Budget,
    SearchResult,
    aging_evolution,
    random_search,
    run_search,
)

__all__ = ["ALGORITHMS", "Budget", "SearchResult", "aging_evolution", "random_search", "run_search"]
