"""l2_norm: sum over conv/linear layers of the Frobenius norm of the weight (NASLib ``l2_norm``)."""

from __future__ import annotations

import torch

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("l2_norm", needs=("weights",))
def l2_norm(r: PassResults) -> float:
    """Sum over conv/linear layers of ||W||_2 (per-layer norm, then summed)."""
    layers = r.require_layers("l2_norm")
    with torch.no_grad():
        return float(sum(float(m.weight.detach().double().norm()) for m in layers))
