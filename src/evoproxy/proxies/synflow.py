"""synflow: log of the summed synaptic flow, as in the NAS-Bench-Suite-Zero release (NASLib ``synflow``).

SynFlow (Tanaka et al. 2020) as NASLib computes it: with BatchNorm bypassed, all parameters and buffers replaced
by their absolute values in float64 (NASLib on a copy; here swapped in and back), the gradient of the summed output
for one all-ones input; per conv/linear layer |w * dR/dw|. NASLib's ZeroCost predictor takes ``log(score)`` of the
sum, so the released values are already log-scaled; 0 stays 0.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn as nn

from evoproxy.proxies.passes import PassContext, PassResults, logits_of, metric_layers, preserved, swapped
from evoproxy.proxies.registry import ProxyError, register, register_pass


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


@contextlib.contextmanager
def _bypassed_batchnorm(model: nn.Module) -> Iterator[None]:
    """BatchNorm modules return their input (an instance-level ``forward``), restored on exit."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m, m.__dict__.get("forward")) for m in bns]
    try:
        for m in bns:
            m.forward = _identity
        yield
    finally:
        for m, fwd in saved:
            if fwd is None:
                del m.forward
            else:
                m.forward = fwd


def _linearised(model: nn.Module) -> dict[int, torch.Tensor]:
    """Replacements for every floating parameter and buffer: float64, absolute values (``net.double()`` then
    ``abs_`` of the state dict, as NASLib does; non-persistent buffers are only converted); parameters are new
    leaves that require grad."""
    persistent = {id(t) for t in model.state_dict(keep_vars=True).values()}
    new: dict[int, torch.Tensor] = {}
    for p in model.parameters():
        if p.is_floating_point():
            new[id(p)] = p.detach().double().abs().requires_grad_(p.requires_grad)
    for b in model.buffers():
        if b.is_floating_point():
            d = b.detach().double()
            new[id(b)] = d.abs() if id(b) in persistent else d
    return new


@register_pass("synflow", order=30.0, needs_data=False)
def synflow_pass(ctx: PassContext) -> list[torch.Tensor]:
    """Per conv/linear layer, sum |w * dR/dw| of the linearised float64 network on an all-ones input."""
    net = ctx.model
    layers = metric_layers(net)
    if not layers:
        raise ProxyError("synflow", "the model has no convolution or linear layer to score")
    x = torch.ones((1, *ctx.inputs.shape[1:]), dtype=torch.float64, device=ctx.inputs.device)
    # the model itself with linearised tensors (no copy); flags and buffers are restored after
    with preserved(net), swapped(net, _linearised(net)), _bypassed_batchnorm(net), torch.enable_grad():
        net.train()
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
