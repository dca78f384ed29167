"""The ``jacobian`` pass (jacov, epe_nas): the gradient of the summed outputs w.r.t. each input sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from evoproxy.proxies.passes import Chunk, MinibatchStep
from evoproxy.proxies.registry import register_pass


@dataclass
class InputJacobian:
    """Rows d(sum of outputs)/d(input sample), one per sample, and the output width (classes, for epe_nas)."""

    rows: np.ndarray
    n_outputs: int


@register_pass("jacobian", order=21.0)
class Jacobian(MinibatchStep):
    """Input Jacobian of the summed model outputs on the shared forward (chunks concatenated)."""

    input_grad = True

    def __init__(self, ctx, n_chunks: int) -> None:  # noqa: ANN001 - PassContext
        super().__init__(ctx, n_chunks)
        self.parts: list[np.ndarray] = []
        self.n_outputs = 0

    def on_chunk(self, chunk: Chunk) -> None:
        (jx,) = torch.autograd.grad(chunk.y.sum(), chunk.x, retain_graph=True)
        self.parts.append(jx.detach().reshape(chunk.end - chunk.start, -1).cpu().numpy())
        self.n_outputs = int(chunk.y.shape[-1])

    def finish(self) -> InputJacobian:
        return InputJacobian(np.concatenate(self.parts, axis=0), self.n_outputs)
