"""synflow: log of the summed synaptic flow, as in the NAS-Bench-Suite-Zero release (NASLib ``synflow``).

SynFlow (Tanaka et al. 2020) as NASLib computes it: on a copy with BatchNorm bypassed, all parameters and buffers
replaced by their absolute values in float64, the gradient of the summed output for one all-ones input; per
conv/linear layer |w * dR/dw|. NASLib's ZeroCost predictor takes ``log(score)`` of the sum, so the released
values are already log-scaled; 0 stays 0.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn

from evoproxy.proxies.passes import PassContext, PassResults, logits_of, metric_layers
from evoproxy.proxies.registry import ProxyError, register, register_pass


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


@register_pass("synflow", order=30.0, needs_data=False)
def synflow_pass(ctx: PassContext) -> list[torch.Tensor]:
    """Per conv/linear layer, sum |w * dR/dw| of the linearised float64 copy on an all-ones input."""
    net = copy.deepcopy(ctx.model)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.forward = _identity
    net.double().train()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    layers = metric_layers(net)
    if not layers:
        raise ProxyError("synflow", "the model has no convolution or linear layer to score")
    x = torch.ones((1, *ctx.inputs.shape[1:]), dtype=torch.float64, device=ctx.inputs.device)
    with torch.enable_grad():
        out = logits_of(net(x))
        grads = torch.autograd.grad(out.sum(), [m.weight for m in layers], allow_unused=True)
    return [
        (m.weight.detach() * g).abs().sum() if g is not None else torch.zeros((), dtype=torch.float64)
        for m, g in zip(layers, grads, strict=True)
    ]


@register("synflow", needs=("synflow",))
def synflow(r: PassResults) -> float:
    """log of sum over conv/linear weights of |W * dR/dW| of the linearised network."""
    total = float(sum(float(t) for t in r["synflow"]))
    if total == 0.0:
        return 0.0
    if not math.isfinite(total):
        return total
    return math.log(total) if total > 0 else -math.log(-total)
