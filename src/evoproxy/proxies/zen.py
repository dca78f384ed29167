"""zen: the Zen-NAS expressivity score (Lin et al. 2021; NASLib ``zen``); see :func:`passes.zen_pass`."""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("zen", needs=("zen",))
def zen(r: PassResults) -> float:
    """log E|f(x) - f(x + 0.01 e)| of the pre-GAP features plus the BatchNorm scaling term."""
    return float(r.zen)
