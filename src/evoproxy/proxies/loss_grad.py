"""The ``grad`` pass (grad_norm, snip, plain): the loss gradient w.r.t. every conv/linear weight.

Summed over chunks when the batch is split (the sum of per-chunk mean losses, as zero-cost-nas does).
"""

from __future__ import annotations

import torch

from evoproxy.proxies.passes import Chunk, MinibatchStep, accumulate
from evoproxy.proxies.registry import register_pass


@register_pass("grad", order=22.0)
class LossGradient(MinibatchStep):
    """dL/dW per conv/linear layer (None for a layer the loss does not reach)."""

    uses_loss = True

    def __init__(self, ctx, n_chunks: int) -> None:  # noqa: ANN001 - PassContext
        super().__init__(ctx, n_chunks)
        self.grads: list[torch.Tensor | None] = [None] * len(ctx.layers)

    def on_chunk(self, chunk: Chunk) -> None:
        for i, t in enumerate(chunk.loss_grad().weights):
            accumulate(self.grads, i, t)

    def finish(self) -> list[torch.Tensor | None]:
        return self.grads
