"""fisher: channel saliency from the Fisher information (Theis et al. 2018; Turner et al. 2020; NASLib ``fisher``).

Per conv/linear output channel k: 0.5 * mean over samples of (sum over positions of activation * dL/dactivation)^2.
NASLib broadcasts each channel's value to every weight of that channel before summing, so a channel counts
``prod(weight.shape[1:])`` times; we do the same so the values match the release.
"""

from __future__ import annotations

import math

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("fisher", needs=("grad",))
def fisher(r: PassResults) -> float:
    """Sum over conv/linear channels of |Fisher saliency| times the channel's weight count."""
    layers = r.require_layers("fisher")
    total = 0.0
    for m, f in zip(layers, r.fisher, strict=True):
        if f is not None:
            total += float(f.double().abs().sum()) * math.prod(m.weight.shape[1:])
    return total
