"""flops: forward FLOPs of one sample in millions, counted like tensorwatch's torchstat (NAS-Bench-Suite-Zero).

The ``stats`` pass (also read by params) runs one eval-mode forward of a single sample with leaf-module hooks.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn as nn

from evoproxy.proxies.passes import PassContext, PassResults, hooks, preserved
from evoproxy.proxies.registry import register, register_pass


def _conv_flops(m: nn.modules.conv._ConvNd, inp: torch.Tensor, out: torch.Tensor) -> float:
    per_position = math.prod(m.kernel_size) * inp.shape[1] * (out.shape[1] // m.groups)
    positions = out.shape[0] * math.prod(out.shape[2:])
    flops = per_position * positions
    if m.bias is not None:
        flops += out.shape[1] * positions
    return float(flops)


def _pool_flops(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> float:
    k = m.kernel_size if isinstance(m.kernel_size, (tuple, list)) else (m.kernel_size,) * (inp.dim() - 2)
    return float(inp.shape[0] * inp.shape[1] * math.prod(out.shape[2:]) * math.prod(k))


def _adaptive_pool_flops(inp: torch.Tensor, out: torch.Tensor) -> float:
    # torchstat's count: for each output cell, the (inclusive) window size of the adaptive pool
    if inp.dim() != 4:
        return float(inp.numel())
    h, w, oh, ow = inp.shape[2], inp.shape[3], out.shape[2], out.shape[3]
    ys = [math.ceil((i + 1) * h / oh) - math.floor(i * h / oh) + 1 for i in range(oh)]
    xs = [math.ceil((j + 1) * w / ow) - math.floor(j * w / ow) + 1 for j in range(ow)]
    return float(inp.shape[0] * inp.shape[1] * sum(ys) * sum(xs))


def leaf_flops(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> float:
    """FLOPs of one call of a leaf module, as tensorwatch's torchstat counts them (conv/linear multiply-accumulates,
    one op per element for BatchNorm (two when affine), ReLU-like activations, pooling windows, upsampling)."""
    if isinstance(m, nn.modules.conv._ConvNd):
        return _conv_flops(m, inp, out)
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return float(inp.numel() * (2 if m.affine else 1))
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        return _pool_flops(m, inp, out)
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _adaptive_pool_flops(inp, out)
    if isinstance(m, (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)):
        return float(inp.numel())
    if isinstance(m, nn.Upsample):
        return float(out.numel())
    if isinstance(m, nn.Linear):
        return float(math.prod(inp.shape[:-1]) * m.in_features * m.out_features)
    return 0.0


def _first_tensor(x: object) -> torch.Tensor | None:
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for v in x:
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


class ModelStats(NamedTuple):
    """Parameters and FLOPs per sample, both in millions."""

    params: float
    flops: float


def _leaf_counts(model: nn.Module, x: torch.Tensor) -> tuple[float, float, float]:
    """One eval-mode forward of ``x`` with leaf-module hooks: the parameters of the leaf modules it runs (each once),
    FLOPs summed over every leaf call, and FLOPs counting each module's last call only. Model state is restored."""
    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    params: dict[int, int] = {}
    last: dict[int, float] = {}
    total = [0.0]

    def hook(m: nn.Module, inp: tuple, out: object) -> None:
        i, o = _first_tensor(inp), _first_tensor(out)
        f = leaf_flops(m, i, o) if i is not None and o is not None else 0.0
        total[0] += f
        last[id(m)] = f
        params[id(m)] = sum(p.numel() for p in m.parameters(recurse=False))

    with preserved(model), hooks([m.register_forward_hook(hook) for m in leaves]), torch.no_grad():
        model.eval()
        model(x)
    return float(sum(params.values())), total[0], sum(last.values())


@register_pass("stats", order=10.0, needs_data=False)
def stats_pass(ctx: PassContext) -> ModelStats:
    """Parameters and FLOPs (both in millions) from one eval-mode forward of one sample: parameters of the leaf
    modules the forward runs (each once), FLOPs summed over every leaf-module call."""
    params, total, _ = _leaf_counts(ctx.model, ctx.inputs[:1])
    return ModelStats(params / 1e6, total / 1e6)


def flop_counts(model: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """FLOPs (M) of one eval-mode forward of ``x``: summed over every leaf-module call (the flops proxy's rule) and
    counting each module's last call only (torchstat / tensorwatch, the release's counter). They differ only when a
    module runs several times (the TNB jigsaw encoder, once per tile). Works on meta tensors (shapes only)."""
    _, total, last = _leaf_counts(model, x)
    return total / 1e6, last / 1e6


@register("flops", needs=("stats",))
def flops(r: PassResults) -> float:
    """Forward FLOPs per sample in millions (conv/linear multiply-accumulates plus BN, ReLU and pooling ops)."""
    return float(r["stats"].flops)
