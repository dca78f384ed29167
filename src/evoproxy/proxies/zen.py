"""zen: the Zen-NAS expressivity score (Lin et al. 2021; NASLib ``zen``).

On a Gaussian-initialised copy in train mode: log of the mean L1 change of the pre-GAP features under a mixup
perturbation of Gaussian inputs, plus the sum over BatchNorm2d layers of log sqrt(mean running_var) (running
statistics as left by the two forwards). Random draws come from a generator seeded with ``seed`` (on the CPU, so
every device gets the same numbers).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from evoproxy.proxies.passes import PassContext, PassResults, hooks, preserved, swapped
from evoproxy.proxies.registry import ProxyError, register, register_pass

MIXUP_GAMMA = 1e-2


def _gaussian_weights(model: nn.Module, gen: torch.Generator) -> dict[int, torch.Tensor]:
    """Zen-NAS's init, as replacements for the model's tensors: conv/linear weights N(0, 1) (drawn in module order),
    biases 0, norm layers weight 1 and bias 0."""
    new: dict[int, torch.Tensor] = {}
    for m in model.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            w = m.weight
            new[id(w)] = torch.randn(w.shape, generator=gen, dtype=w.dtype).to(w.device)
            if m.bias is not None:
                new[id(m.bias)] = torch.zeros_like(m.bias.detach())
        elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.weight is not None:
            new[id(m.weight)] = torch.ones_like(m.weight.detach())
            new[id(m.bias)] = torch.zeros_like(m.bias.detach())
    return new


def _features_before_gap(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The feature map entering the global average pooling: ``net.forward_before_global_avg_pool`` when the model
    has it, else the input of its (last-called) ``nn.AdaptiveAvgPool2d``."""
    if hasattr(net, "forward_before_global_avg_pool"):
        return net.forward_before_global_avg_pool(x)
    seen: list[torch.Tensor] = []
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise ProxyError("zen", "the model has no nn.AdaptiveAvgPool2d (global average pooling) and no "
                                "forward_before_global_avg_pool method; Zen-NAS scores the pre-GAP feature map")
    with hooks([m.register_forward_hook(lambda m, i, o: seen.append(i[0])) for m in pools]):
        net(x)
    return seen[-1]


@register_pass("zen", order=40.0, needs_data=False)
def zen_pass(ctx: PassContext) -> float:
    """The Zen-NAS score of the network (reads only the batch shape)."""
    inputs = ctx.inputs
    gen = torch.Generator().manual_seed(int(ctx.seed))
    net = ctx.model
    gaussian = _gaussian_weights(net, gen)
    shape = tuple(inputs.shape)
    dtype = inputs.dtype if inputs.is_floating_point() else torch.float32
    x1 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    x2 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    # the model itself with Gaussian weights (no copy); its BatchNorm statistics and flags are restored after
    with preserved(net), swapped(net, gaussian), torch.inference_mode():  # inference_mode: exact, cheaper
        net.train()
        out = _features_before_gap(net, x1)
        mix = _features_before_gap(net, x1 + MIXUP_GAMMA * x2)
        score = torch.abs(out - mix).reshape(shape[0], -1).sum(1).mean()
        log_bn = 0.0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
                log_bn += float(torch.log(torch.sqrt(torch.mean(m.running_var))))
        return float(torch.log(score)) + log_bn


@register("zen", needs=("zen",))
def zen(r: PassResults) -> float:
    """log E|f(x) - f(x + 0.01 e)| of the pre-GAP features plus the BatchNorm scaling term."""
    return float(r["zen"])
