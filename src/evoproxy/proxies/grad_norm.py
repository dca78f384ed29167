"""grad_norm: sum over conv/linear layers of the L2 norm of the loss gradient of the weight (Abdelfattah et al.)."""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("grad_norm", needs=("grad",))
def grad_norm(r: PassResults) -> float:
    """Sum over conv/linear layers of ||dL/dW||_2 on one minibatch."""
    r.require_layers("grad_norm")
    return float(sum(float(g.double().norm()) for g in r["grad"] if g is not None))
