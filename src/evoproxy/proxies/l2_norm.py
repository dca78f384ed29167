"""l2_norm: sum over conv/linear layers of the Frobenius norm of the weight (NASLib ``l2_norm``).

Its ``weights`` pass runs nothing: the proxy reads the weights of the scored layers.
"""

from __future__ import annotations

import torch

from evoproxy.proxies.passes import PassContext, PassResults
from evoproxy.proxies.registry import register, register_pass


@register_pass("weights", order=0.0, needs_data=False)
def weights_pass(ctx: PassContext) -> None:
    """No network pass: the weights are read as they are."""
    return None


@register("l2_norm", needs=("weights",))
def l2_norm(r: PassResults) -> float:
    """Sum over conv/linear layers of ||W||_2 (per-layer norm, then summed)."""
    layers = r.require_layers("l2_norm")
    with torch.no_grad():
        return float(sum(float(m.weight.detach().double().norm()) for m in layers))
