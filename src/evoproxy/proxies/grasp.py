"""grasp: gradient signal preservation, -sum(W * Hg) over conv/linear weights (Wang et al. 2020; NASLib ``grasp``).

H is the Hessian of the loss and g its gradient on the same minibatch; Hg is a Hessian-vector product (double
backward). NASLib keeps the minus sign ("accuracy seems to be negatively correlated with this metric").
"""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("grasp", needs=("hessian",))
def grasp(r: PassResults) -> float:
    """-sum over conv/linear weights of W * (H g)."""
    layers = r.require_layers("grasp")
    return float(sum(float(-(m.weight.detach().double() * h.double()).sum())
                     for m, h in zip(layers, r.hessian_grad, strict=True) if h is not None))
