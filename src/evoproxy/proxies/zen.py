"""zen: the Zen-NAS expressivity score (Lin et al. 2021; NASLib ``zen``).

On a Gaussian-initialised copy in train mode: log of the mean L1 change of the pre-GAP features under a mixup
perturbation of Gaussian inputs, plus the sum over BatchNorm2d layers of log sqrt(mean running_var) (running
statistics as left by the two forwards). Random draws come from a generator seeded with ``seed`` (on the CPU, so
every device gets the same numbers).
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from evoproxy.proxies.passes import PassContext, PassResults, hooks
from evoproxy.proxies.registry import ProxyError, register, register_pass

MIXUP_GAMMA = 1e-2


def _gaussian_init(net: nn.Module, gen: torch.Generator) -> None:
    """Zen-NAS's init: conv/linear weights N(0, 1), biases 0, norm layers weight 1 and bias 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen, dtype=m.weight.dtype))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


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
    net = copy.deepcopy(ctx.model).train()
    _gaussian_init(net, gen)
    shape = tuple(inputs.shape)
    dtype = inputs.dtype if inputs.is_floating_point() else torch.float32
    x1 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    x2 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    with torch.no_grad():
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
