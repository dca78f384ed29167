"""nwot: NASWOT score (Mellor et al. 2021, v2; NASLib ``nwot``): log|det K| of the binary-code kernel.

Each sample is coded by the sign of every ReLU input; K[i, j] counts the units on which samples i and j agree,
summed over all ``nn.ReLU`` modules (and calls). The ``forward`` pass builds K from hooks on the shared forward (on
the whole batch, without a graph, when the batch is split: K needs every pair of samples).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn

from evoproxy.proxies.passes import MinibatchStep, PassResults
from evoproxy.proxies.registry import ProxyError, register, register_pass


@register_pass("forward", order=20.0)
class ReluKernel(MinibatchStep):
    """NASWOT's kernel: per ReLU call, x x^T + (1-x)(1-x)^T of the binary codes x = [input > 0], summed."""

    needs_graph = False
    whole_batch = True

    def __init__(self, ctx, n_chunks: int) -> None:  # noqa: ANN001 - PassContext
        super().__init__(ctx, n_chunks)
        self.kernel: torch.Tensor | None = None
        self.calls = 0

    def _hook(self, m: nn.Module, inp: tuple, out: object) -> None:
        x = (inp[0].detach().reshape(inp[0].shape[0], -1) > 0).float()
        a = x @ x.t()
        s = x.sum(1)
        # x x^T + (1-x)(1-x)^T = number of units on which two samples agree (NASWOT's kernel)
        k = (2.0 * a - s[:, None] - s[None, :] + x.shape[1]).double()
        self.kernel = k if self.kernel is None else self.kernel + k
        self.calls += 1

    def hooks(self) -> list:
        hook: Callable = self._hook
        return [m.register_forward_hook(hook) for m in self.ctx.model.modules() if isinstance(m, nn.ReLU)]

    def finish(self) -> tuple[np.ndarray | None, int]:
        return (None if self.kernel is None else self.kernel.cpu().numpy()), self.calls


@register("nwot", needs=("forward",))
def nwot(r: PassResults) -> float:
    """log|det K| of the NASWOT binary-code kernel over the minibatch."""
    kernel, calls = r["forward"]
    if kernel is None or calls == 0:
        raise ProxyError("nwot", "the model runs no nn.ReLU module; NASWOT codes each unit by the sign of its "
                                 "ReLU input (models using F.relu or other activations are not supported)")
    _sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet)
