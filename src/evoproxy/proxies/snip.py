"""snip: connection sensitivity, sum of |dL/dW * W| over conv/linear weights (Lee et al. 2019; NASLib ``snip``).

NASLib takes the gradient of the loss w.r.t. a multiplicative mask of ones, which equals dL/dW * W.
"""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("snip", needs=("grad",))
def snip(r: PassResults) -> float:
    """Sum over conv/linear weights of |dL/dW * W|."""
    layers = r.require_layers("snip")
    return float(sum(float((g.double() * m.weight.detach().double()).abs().sum())
                     for m, g in zip(layers, r["grad"], strict=True) if g is not None))
