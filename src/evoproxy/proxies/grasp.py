"""grasp: gradient signal preservation, -sum(W * Hg) over conv/linear weights (Wang et al. 2020; NASLib ``grasp``).

H is the Hessian of the loss and g its gradient on the same minibatch; Hg is a Hessian-vector product (double
backward). NASLib keeps the minus sign ("accuracy seems to be negatively correlated with this metric").

The ``hessian`` pass differentiates g . g(W) (g held fixed) through the shared forward's differentiable loss
gradient. With the batch split, g is the sum over chunks, known only after the first sweep, so a second sweep
recomputes each chunk's forward and gradient (as zero-cost-nas does). On the CPU the forwards run in
:class:`~evoproxy.proxies.second_order.LeanBatchNormDoubleBackward` (same forward and gradient, a cheaper exact
double backward through train-mode BatchNorm).
"""

from __future__ import annotations

import contextlib

import torch

from evoproxy.proxies.passes import Chunk, MinibatchStep, PassResults, accumulate, logits_of
from evoproxy.proxies.registry import register, register_pass
from evoproxy.proxies.second_order import LeanBatchNormDoubleBackward


def _dot(fixed: list | tuple, live: list | tuple) -> torch.Tensor | float:
    return sum((f.detach() * t).sum() for f, t in zip(fixed, live, strict=True) if f is not None and t is not None)


@register_pass("hessian", order=24.0)
class HessianGradient(MinibatchStep):
    """H g per conv/linear weight, g the loss gradient and H the loss Hessian on the minibatch."""

    uses_loss = True

    def __init__(self, ctx, n_chunks: int) -> None:  # noqa: ANN001 - PassContext
        super().__init__(ctx, n_chunks)
        self.create_graph = n_chunks == 1  # fold into the shared forward's loss backward
        self.grads: list[torch.Tensor | None] = [None] * len(ctx.layers)
        self.hg: list[torch.Tensor | None] = [None] * len(ctx.layers)

    def _lean_mode(self) -> contextlib.AbstractContextManager:
        """The cheaper BatchNorm double backward on the CPU (its forward and first backward are unchanged)."""
        on_cpu = self.ctx.device.type == "cpu"
        return LeanBatchNormDoubleBackward() if on_cpu else contextlib.nullcontext()

    def forward_mode(self) -> contextlib.AbstractContextManager:
        return self._lean_mode() if self.create_graph else contextlib.nullcontext()

    def _add_hvp(self, z: torch.Tensor | float) -> None:
        if isinstance(z, torch.Tensor) and z.requires_grad:
            weights = [m.weight for m in self.ctx.layers]
            for i, t in enumerate(torch.autograd.grad(z, weights, allow_unused=True)):
                accumulate(self.hg, i, t)

    def on_chunk(self, chunk: Chunk) -> None:
        gw = chunk.loss_grad().weights
        if self.create_graph:
            self._add_hvp(_dot(gw, gw))
        else:
            for i, t in enumerate(gw):
                accumulate(self.grads, i, t)

    def finish(self) -> list[torch.Tensor | None]:
        if not self.create_graph:
            ctx, n = self.ctx, self.ctx.inputs.shape[0]
            weights = [m.weight for m in ctx.layers]
            for sp in range(self.n_chunks):
                st, en = sp * n // self.n_chunks, (sp + 1) * n // self.n_chunks
                with torch.enable_grad(), self._lean_mode():
                    loss = ctx.loss_fn(logits_of(ctx.model(ctx.inputs[st:en])), ctx.targets[st:en])
                    gf = torch.autograd.grad(loss, weights, allow_unused=True, create_graph=True)
                    self._add_hvp(_dot(self.grads, gf))
        return self.hg


@register("grasp", needs=("hessian",))
def grasp(r: PassResults) -> float:
    """-sum over conv/linear weights of W * (H g)."""
    layers = r.require_layers("grasp")
    return float(sum(float(-(m.weight.detach().double() * h.double()).sum())
                     for m, h in zip(layers, r["hessian"], strict=True) if h is not None))
