"""plain: sum of dL/dW * W over conv/linear weights, signed (NASLib ``plain``)."""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("plain", needs=("grad",))
def plain(r: PassResults) -> float:
    """Sum over conv/linear weights of dL/dW * W (no absolute value)."""
    layers = r.require_layers("plain")
    return float(sum(float((g.double() * m.weight.detach().double()).sum())
                     for m, g in zip(layers, r["grad"], strict=True) if g is not None))
