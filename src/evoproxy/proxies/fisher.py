"""fisher: channel saliency from the Fisher information (Theis et al. 2018; Turner et al. 2020; NASLib ``fisher``).

Per conv/linear output channel k: 0.5 * mean over samples of (sum over positions of activation * dL/dactivation)^2.
NASLib broadcasts each channel's value to every weight of that channel before summing, so a channel counts
``prod(weight.shape[1:])`` times; we do the same so the values match the release. The ``fisher`` pass gets the
activation gradients from the shared loss backward (:meth:`Chunk.loss_grad`); chunks add up.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from evoproxy.proxies.passes import Chunk, MinibatchStep, PassResults, accumulate
from evoproxy.proxies.registry import register, register_pass


def act_channel_sum(layer: nn.Module, act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-output-channel sum of activation x gradient: conv (N, C, ...) sums the spatial dims, linear
    (N, ..., C) the middle dims."""
    prod = act * grad
    if isinstance(layer, nn.Linear):
        if prod.dim() > 2:
            prod = prod.reshape(prod.shape[0], -1, prod.shape[-1]).sum(1)
        return prod
    return prod.reshape(prod.shape[0], prod.shape[1], -1).sum(-1)


@register_pass("fisher", order=23.0)
class FisherSaliency(MinibatchStep):
    """Per conv/linear layer, 0.5 * mean_n (sum over positions of a * dL/da)^2 per output channel."""

    uses_loss = True

    def __init__(self, ctx, n_chunks: int) -> None:  # noqa: ANN001 - PassContext
        super().__init__(ctx, n_chunks)
        self.index = {id(m): i for i, m in enumerate(ctx.layers)}
        self.acts: list[tuple[int, torch.Tensor]] = []
        self.fisher: list[torch.Tensor | None] = [None] * len(ctx.layers)

    def _hook(self, m: nn.Module, inp: tuple, out: object) -> None:
        if isinstance(out, torch.Tensor) and out.requires_grad:
            self.acts.append((self.index[id(m)], out))

    def hooks(self) -> list:
        self.acts = []
        return [m.register_forward_hook(self._hook) for m in self.ctx.layers]

    def grad_inputs(self) -> list[torch.Tensor]:
        return [a for _, a in self.acts]

    def on_chunk(self, chunk: Chunk) -> None:
        grads = chunk.loss_grad().extra.get(self.name, ())
        for (i, act), gact in zip(self.acts, grads, strict=True):
            if gact is not None:
                g_nk = act_channel_sum(self.ctx.layers[i], act.detach(), gact.detach())
                accumulate(self.fisher, i, 0.5 * g_nk.pow(2).mean(0))
        self.acts = []

    def finish(self) -> list[torch.Tensor | None]:
        return self.fisher


@register("fisher", needs=("fisher",))
def fisher(r: PassResults) -> float:
    """Sum over conv/linear channels of |Fisher saliency| times the channel's weight count."""
    layers = r.require_layers("fisher")
    total = 0.0
    for m, f in zip(layers, r["fisher"], strict=True):
        if f is not None:
            total += float(f.double().abs().sum()) * math.prod(m.weight.shape[1:])
    return total
