"""A cheaper double backward of train-mode BatchNorm on the CPU, for grasp's Hessian-vector product.

PyTorch's ``batchnorm_double_backward`` evaluates the second derivative with about 35 full-size elementwise ops per
BatchNorm, including the gradient w.r.t. the BatchNorm weight even when nothing asks for it; in an NB201 Hessian-
vector product these ops took about a third of the time. :class:`LeanBatchNormDoubleBackward` runs ``F.batch_norm``
(train mode, CPU) as the same ``native_batch_norm`` forward and ``native_batch_norm_backward`` (so the outputs and
first-order gradients are bit-identical) whose own backward is the closed form below in 17 full-size passes.

With x^ = (x - mean) * invstd, s = weight * invstd and <.> the mean over all dims but the channel, the first
backward is gI(gO, x) = s (gO - <gO> - x^ <gO x^>). For a cotangent ``a`` of gI:

- w.r.t. gO (gI is linear and self-adjoint in gO): s (a - <a> - x^ <a x^>);
- w.r.t. x: -s invstd (x^ (<a gO> - <a><gO> - 3 <gO x^><a x^>) + <a x^> (gO - <gO>) + <gO x^> (a - <a>)).

This is the same quantity as PyTorch's; only float32 rounding differs (grasp, a signed sum with cancellation, moves
by about as much as a change of the torch thread count moves it). No second derivative is formed w.r.t. the
BatchNorm weight and bias (the Hessian pass differentiates conv/linear weights only; a cotangent of the weight or
bias gradient raises).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import FunctionCtx, once_differentiable
from torch.overrides import TorchFunctionMode

_aten = torch.ops.aten


class _BatchNormBackward(torch.autograd.Function):
    """``(gO, x) -> native_batch_norm_backward`` (train mode), differentiable once by the closed form above."""

    @staticmethod
    def forward(ctx: FunctionCtx, grad_out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor | None,
                mean: torch.Tensor, invstd: torch.Tensor, eps: float, mask: list[bool]) -> tuple:
        ctx.save_for_backward(grad_out, x, weight, mean, invstd)
        ctx.set_materialize_grads(False)  # unused weight/bias gradients get no cotangent (None, not zeros)
        return _aten.native_batch_norm_backward(grad_out, x, weight, None, None, mean, invstd, True, eps, mask)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, a: torch.Tensor | None, a_weight: torch.Tensor | None,
                 a_bias: torch.Tensor | None) -> tuple:
        if a_weight is not None or a_bias is not None:
            raise RuntimeError("LeanBatchNormDoubleBackward: no second derivative through the BatchNorm weight or "
                               "bias gradient")
        grad_out, x, weight, mean, invstd = ctx.saved_tensors
        need_grad_out, need_x = ctx.needs_input_grad[:2]
        if a is None or not (need_grad_out or need_x):
            return (None,) * 7
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        n = x.numel() // x.shape[1]

        def cmean(t: torch.Tensor) -> torch.Tensor:
            return t.sum(dims, keepdim=True) / n

        inv = invstd.reshape(shape)
        s = inv if weight is None else weight.reshape(shape) * inv
        xhat = (x - mean.reshape(shape)) * inv
        a_mean, a_xhat = cmean(a), cmean(a * xhat)
        d_grad_out = d_x = None
        if need_grad_out:
            d_grad_out = torch.addcmul(-s * a_mean, a, s).addcmul_(xhat, -s * a_xhat)
        if need_x:
            g_mean, g_xhat, ag = cmean(grad_out), cmean(grad_out * xhat), cmean(a * grad_out)
            k = -s * inv
            c0 = -k * (a_xhat * g_mean + g_xhat * a_mean)
            c_xhat = k * (ag - a_mean * g_mean - 3.0 * g_xhat * a_xhat)
            d_x = torch.addcmul(c0, xhat, c_xhat).addcmul_(grad_out, k * a_xhat).addcmul_(a, k * g_xhat)
        return d_grad_out, d_x, None, None, None, None, None


class _BatchNorm(torch.autograd.Function):
    """Train-mode ``native_batch_norm`` whose backward is :class:`_BatchNormBackward`."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None,
                running_mean: torch.Tensor | None, running_var: torch.Tensor | None, momentum: float,
                eps: float) -> torch.Tensor:
        out, mean, invstd = torch.native_batch_norm(x, weight, bias, running_mean, running_var, True, momentum, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple:
        x, weight, mean, invstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        mask = [need[0], weight is not None and need[1], need[2]]
        gx, gw, gb = _BatchNormBackward.apply(grad_out, x, weight, mean, invstd, ctx.eps, mask)
        return gx, gw, gb, None, None, None, None


_BN_SIGNATURE = inspect.signature(F.batch_norm)


class LeanBatchNormDoubleBackward(TorchFunctionMode):
    """Route train-mode ``F.batch_norm`` of CPU float tensors that records a graph through :class:`_BatchNorm`
    (bit-identical forward and first backward, cheaper double backward); other calls pass through unchanged."""

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.batch_norm and torch.is_grad_enabled():
            bound = _BN_SIGNATURE.bind(*args, **kwargs)  # torch's own argument names and defaults
            bound.apply_defaults()
            a = bound.arguments
            x = a["input"]
            if (a["training"] and isinstance(x, torch.Tensor) and x.device.type == "cpu" and x.dim() >= 2
                    and x.dtype in (torch.float32, torch.float64) and x.numel() > x.shape[1]):
                return _BatchNorm.apply(x, a["weight"], a["bias"], a["running_mean"], a["running_var"],
                                        a["momentum"], a["eps"])
        return func(*args, **kwargs)
