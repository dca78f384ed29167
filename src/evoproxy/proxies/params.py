"""params: number of parameters in millions (of the leaf modules a forward runs, as tensorwatch counts them).

Read from the ``stats`` pass of :mod:`evoproxy.proxies.flops`.
"""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("params", needs=("stats",))
def params(r: PassResults) -> float:
    """Parameters of the network in millions."""
    return float(r["stats"].params)
