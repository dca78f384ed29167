"""A plug-in: two proxies, each with a pass of its own, in one file (what a user adds; see README "Adding a proxy").

- ``relu_balance``: mean over ReLU calls of |fraction of positive inputs - 1/2|, from a step of the shared
  train-mode forward of the minibatch (no extra forward; on the whole batch when the batch is split).
- ``logit_margin``: mean top-1 minus top-2 logit of an eval-mode forward, a pass of its own.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from evoproxy.proxies import PassContext, PassResults, register, register_pass
from evoproxy.proxies.passes import MinibatchStep, logits_of, preserved


@register_pass("relu_rates")
class ReluRates(MinibatchStep):
    """Fraction of positive inputs of every nn.ReLU call in the shared forward."""

    needs_graph = False  # hooks only: no backward through the forward
    whole_batch = True

    def __init__(self, ctx: PassContext, n_chunks: int) -> None:
        super().__init__(ctx, n_chunks)
        self.rates: list[float] = []

    def _hook(self, m: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        self.rates.append(float((inp[0] > 0).double().mean()))

    def hooks(self) -> list:
        return [m.register_forward_hook(self._hook) for m in self.ctx.model.modules() if isinstance(m, nn.ReLU)]

    def finish(self) -> np.ndarray:
        return np.array(self.rates)


@register("relu_balance", needs=("relu_rates",))
def relu_balance(r: PassResults) -> float:
    """Mean over ReLU calls of |positive fraction - 0.5|."""
    return float(np.mean(np.abs(r["relu_rates"] - 0.5)))


@register_pass("eval_logits", order=60)
def eval_logits(ctx: PassContext) -> torch.Tensor:
    """Logits of an eval-mode forward of the minibatch (the model's state is restored)."""
    with preserved(ctx.model), torch.no_grad():
        ctx.model.eval()
        return logits_of(ctx.model(ctx.inputs))


@register("logit_margin", needs=("eval_logits",))
def logit_margin(r: PassResults) -> float:
    """Mean over samples of the top-1 minus the top-2 logit (eval mode)."""
    top = r["eval_logits"].topk(2, dim=1).values
    return float((top[:, 0] - top[:, 1]).mean())
