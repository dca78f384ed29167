"""The network passes the 13 proxies share, grouped so that computing all of them costs as few passes as possible.

Passes (a proxy declares which it needs; :func:`run_passes` runs only those):

- ``weights``: no pass, reads the conv/linear weights (l2_norm).
- ``stats``: one eval-mode forward of a single sample with leaf-module hooks (params, flops), counted like the
  tensorwatch/torchstat code NAS-Bench-Suite-Zero used.
- ``forward``, ``jacobian``, ``grad``, ``hessian``: one shared train-mode forward of the real minibatch, with
  ReLU hooks (nwot's binary-code kernel), the input Jacobian of the summed logits (jacov, epe_nas), the weight and
  activation gradients of the loss (grad_norm, snip, plain, fisher) and the Hessian-gradient product (grasp).
  The graph is kept only as long as the requested parts need it.
- ``synflow``: the linearised network (|weights|, BatchNorm bypassed, float64) on an all-ones input.
- ``zen``: Gaussian re-initialised network on Gaussian inputs and their mixup (Zen-NAS score).

Every pass leaves the caller's model as it found it: the shared pass restores BatchNorm buffers and train/eval
flags; ``synflow`` and ``zen`` change weights, so they run on a deep copy.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from evoproxy.proxies.registry import ProxyError

PASSES: tuple[str, ...] = ("weights", "stats", "forward", "jacobian", "grad", "hessian", "synflow", "zen")
DATA_PASSES = frozenset({"forward", "jacobian", "grad", "hessian"})
"""Passes that share one forward of the real minibatch (and the only ones the OOM batch split applies to)."""

LayerT = nn.Module


def metric_layers(model: nn.Module) -> list[nn.Module]:
    """The layers whose weights the per-weight proxies score: every convolution and linear layer (NASLib's
    ``get_layer_metric_array`` uses Conv2d and Linear), in module order, each once."""
    return [m for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))]


def logits_of(out: object) -> torch.Tensor:
    """The logits of a model output: the tensor itself, or the first element of a tuple (e.g. with aux heads)."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"model returned {type(out).__name__}, expected a tensor of logits")
    return out


def is_oom(exc: BaseException) -> bool:
    """True for a CUDA (or other accelerator) out-of-memory error."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc)


@dataclass
class PassResults:
    """What the passes produced; proxies read from it (fields stay None for passes that did not run)."""

    layers: list[nn.Module]
    targets: np.ndarray | None = None
    n_outputs: int | None = None
    params: float | None = None
    flops: float | None = None
    relu_kernel: np.ndarray | None = None
    n_relu_calls: int = 0
    jacobian: np.ndarray | None = None
    weight_grads: list[torch.Tensor | None] | None = None
    fisher: list[torch.Tensor | None] | None = None
    hessian_grad: list[torch.Tensor | None] | None = None
    synflow_layers: list[torch.Tensor] | None = None
    zen: float | None = None
    times: dict[str, float] = field(default_factory=dict)
    passes_run: list[str] = field(default_factory=list)
    split_data: int = 1

    def require_layers(self, proxy: str) -> list[nn.Module]:
        if not self.layers:
            raise ProxyError(proxy, "the model has no convolution or linear layer to score")
        return self.layers


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def _timed(res: PassResults, name: str, device: torch.device) -> Iterator[None]:
    _sync(device)
    t0 = time.perf_counter()
    yield
    _sync(device)
    res.times[name] = res.times.get(name, 0.0) + time.perf_counter() - t0
    if name not in res.passes_run:
        res.passes_run.append(name)


@contextlib.contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Restore the model's buffers (BatchNorm running statistics) and train/eval flags on exit."""
    flags = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for m, training in flags:
            m.training = training


@contextlib.contextmanager
def _hooks(handles: list) -> Iterator[list]:
    try:
        yield handles
    finally:
        for h in handles:
            h.remove()


# ----------------------------------------------------------------------------------------------------------- stats
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


def stats_pass(model: nn.Module, inputs: torch.Tensor, res: PassResults) -> None:
    """Parameters and FLOPs (both in millions) from one eval-mode forward of one sample: parameters of the leaf
    modules the forward runs (each once), FLOPs summed over every leaf-module call."""
    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    called: dict[int, int] = {}
    total = [0.0]

    def hook(m: nn.Module, inp: tuple, out: object) -> None:
        i, o = _first_tensor(inp), _first_tensor(out)
        if i is not None and o is not None:
            total[0] += leaf_flops(m, i, o)
        called[id(m)] = sum(p.numel() for p in m.parameters(recurse=False))

    with preserved(model), _hooks([m.register_forward_hook(hook) for m in leaves]), torch.no_grad():
        model.eval()
        model(inputs[:1])
    res.params = sum(called.values()) / 1e6
    res.flops = total[0] / 1e6


# ------------------------------------------------------------------------------------------------ shared data pass
def _relu_kernel_hook(acc: dict) -> Callable:
    def hook(m: nn.Module, inp: tuple, out: object) -> None:
        x = (inp[0].detach().reshape(inp[0].shape[0], -1) > 0).float()
        a = x @ x.t()
        s = x.sum(1)
        # x x^T + (1-x)(1-x)^T = number of units on which two samples agree (NASWOT's kernel)
        k = (2.0 * a - s[:, None] - s[None, :] + x.shape[1]).double()
        acc["K"] = k if acc.get("K") is None else acc["K"] + k
        acc["calls"] = acc.get("calls", 0) + 1

    return hook


def _relu_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.ReLU)]


def _relu_kernel_nograd(model: nn.Module, inputs: torch.Tensor) -> tuple[np.ndarray | None, int]:
    acc: dict = {}
    with _hooks([m.register_forward_hook(_relu_kernel_hook(acc)) for m in _relu_modules(model)]), torch.no_grad():
        model(inputs)
    return (None if acc.get("K") is None else acc["K"].cpu().numpy()), acc.get("calls", 0)


def _act_channel_sum(layer: nn.Module, act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-output-channel sum of activation x gradient: conv (N, C, ...) sums the spatial dims, linear
    (N, ..., C) the middle dims."""
    prod = act * grad
    if isinstance(layer, nn.Linear):
        if prod.dim() > 2:
            prod = prod.reshape(prod.shape[0], -1, prod.shape[-1]).sum(1)
        return prod
    return prod.reshape(prod.shape[0], prod.shape[1], -1).sum(-1)


def data_pass(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None,
    want: set[str],
    loss_fn: Callable,
    split_data: int,
    res: PassResults,
) -> None:
    """The shared train-mode forward of the minibatch and the backward passes the requested proxies need.

    With ``split_data`` > 1 (after a CUDA OOM) the batch is processed in that many chunks like zero-cost-nas does:
    loss gradients and Fisher terms accumulate over chunks (the sum of per-chunk mean losses), the Jacobian is
    concatenated, grasp takes a second pass per chunk with the accumulated gradient, and nwot's kernel is computed
    on the whole batch without an autograd graph (its memory is small).
    """
    want = want & DATA_PASSES
    if not want:
        return
    layers = res.layers
    weights = [m.weight for m in layers]
    need_grad = bool(want & {"grad", "hessian"})
    if need_grad and targets is None:
        raise ProxyError("grad_norm/snip/plain/fisher/grasp", "targets are required for the loss gradient")
    if need_grad and not layers:
        raise ProxyError("grad_norm/snip/plain/fisher/grasp", "the model has no convolution or linear layer")
    n = inputs.shape[0]
    bounds = [(sp * n // split_data, (sp + 1) * n // split_data) for sp in range(split_data)]
    fold_hessian = "hessian" in want and split_data == 1
    grads: list[torch.Tensor | None] = [None] * len(layers)
    fisher: list[torch.Tensor | None] = [None] * len(layers)
    hg: list[torch.Tensor | None] = [None] * len(layers)
    jac_parts: list[np.ndarray] = []
    relu_acc: dict = {}
    layer_index = {id(m): i for i, m in enumerate(layers)}

    def add(acc: list, i: int, t: torch.Tensor | None) -> None:
        if t is not None:
            acc[i] = t.detach() if acc[i] is None else acc[i] + t.detach()

    with preserved(model):
        model.train()
        if "forward" in want and split_data > 1:
            res.relu_kernel, res.n_relu_calls = _relu_kernel_nograd(model, inputs)
        for st, en in bounds:
            acts: list[tuple[int, torch.Tensor]] = []
            handles = []
            if "forward" in want and split_data == 1:
                handles += [m.register_forward_hook(_relu_kernel_hook(relu_acc)) for m in _relu_modules(model)]
            if "grad" in want:

                def act_hook(m: nn.Module, inp: tuple, out: torch.Tensor, acts: list = acts) -> None:
                    if isinstance(out, torch.Tensor) and out.requires_grad:
                        acts.append((layer_index[id(m)], out))

                handles += [m.register_forward_hook(act_hook) for m in layers]
            x = inputs[st:en].detach().clone()
            if "jacobian" in want:
                x.requires_grad_(True)
            grad_ctx = torch.enable_grad() if (need_grad or "jacobian" in want) else torch.no_grad()
            with _hooks(handles), grad_ctx:
                y = logits_of(model(x))
            res.n_outputs = int(y.shape[-1])
            if "jacobian" in want:
                (jx,) = torch.autograd.grad(y.sum(), x, retain_graph=need_grad)
                jac_parts.append(jx.detach().reshape(en - st, -1).cpu().numpy())
            if need_grad:
                loss = loss_fn(y, targets[st:en])
                act_tensors = [a for _, a in acts] if "grad" in want else []
                g = torch.autograd.grad(loss, weights + act_tensors, allow_unused=True, create_graph=fold_hessian)
                gw, ga = g[: len(weights)], g[len(weights) :]
                for i, t in enumerate(gw):
                    add(grads, i, t)
                for (i, act), gact in zip(acts, ga, strict=True):
                    if gact is not None:
                        layer = layers[i]
                        g_nk = _act_channel_sum(layer, act.detach(), gact.detach())
                        add(fisher, i, 0.5 * g_nk.pow(2).mean(0))
                if fold_hessian:
                    z = sum((t.detach() * t).sum() for t in gw if t is not None)
                    if isinstance(z, torch.Tensor) and z.requires_grad:
                        for i, t in enumerate(torch.autograd.grad(z, weights, allow_unused=True)):
                            add(hg, i, t)
            del y
        if "hessian" in want and not fold_hessian:
            for st, en in bounds:
                with torch.enable_grad():
                    y = logits_of(model(inputs[st:en]))
                    loss = loss_fn(y, targets[st:en])
                    gf = torch.autograd.grad(loss, weights, allow_unused=True, create_graph=True)
                    z = sum((gw.detach() * t).sum() for gw, t in zip(grads, gf, strict=True)
                            if gw is not None and t is not None)
                    if isinstance(z, torch.Tensor) and z.requires_grad:
                        for i, t in enumerate(torch.autograd.grad(z, weights, allow_unused=True)):
                            add(hg, i, t)
    if "forward" in want and split_data == 1:
        res.relu_kernel = None if relu_acc.get("K") is None else relu_acc["K"].cpu().numpy()
        res.n_relu_calls = relu_acc.get("calls", 0)
    if "jacobian" in want:
        res.jacobian = np.concatenate(jac_parts, axis=0)
    if "grad" in want or "hessian" in want:
        res.weight_grads = grads
    if "grad" in want:
        res.fisher = fisher
    if "hessian" in want:
        res.hessian_grad = hg
    if targets is not None:
        res.targets = targets.detach().cpu().numpy()


# --------------------------------------------------------------------------------------------------------- synflow
def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def synflow_pass(model: nn.Module, inputs: torch.Tensor, res: PassResults) -> None:
    """SynFlow (Tanaka et al. 2020) as NASLib computes it: on a copy with BatchNorm bypassed, all parameters and
    buffers replaced by their absolute values in float64, the gradient of the summed output for one all-ones input;
    per conv/linear layer |w * dR/dw|."""
    net = copy.deepcopy(model)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.forward = _identity
    net.double().train()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    layers = metric_layers(net)
    if not layers:
        raise ProxyError("synflow", "the model has no convolution or linear layer to score")
    x = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=inputs.device)
    with torch.enable_grad():
        out = logits_of(net(x))
        grads = torch.autograd.grad(out.sum(), [m.weight for m in layers], allow_unused=True)
    res.synflow_layers = [
        (m.weight.detach() * g).abs().sum() if g is not None else torch.zeros((), dtype=torch.float64)
        for m, g in zip(layers, grads, strict=True)
    ]


# ------------------------------------------------------------------------------------------------------------- zen
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
    with _hooks([m.register_forward_hook(lambda m, i, o: seen.append(i[0])) for m in pools]):
        net(x)
    return seen[-1]


def zen_pass(model: nn.Module, inputs: torch.Tensor, seed: int, res: PassResults, mixup_gamma: float = 1e-2) -> None:
    """Zen-NAS score (Lin et al. 2021) as in NASLib: Gaussian-initialised copy in train mode, log of the mean L1
    change of the pre-GAP features under a mixup perturbation of Gaussian inputs, plus the sum over BatchNorm2d
    layers of log sqrt(mean running_var) (running statistics as left by the two forwards). Random draws come from a
    generator seeded with ``seed`` (on the CPU, so every device gets the same numbers)."""
    gen = torch.Generator().manual_seed(int(seed))
    net = copy.deepcopy(model).train()
    _gaussian_init(net, gen)
    shape = tuple(inputs.shape)
    dtype = inputs.dtype if inputs.is_floating_point() else torch.float32
    x1 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    x2 = torch.randn(shape, generator=gen, dtype=dtype).to(inputs.device)
    with torch.no_grad():
        out = _features_before_gap(net, x1)
        mix = _features_before_gap(net, x1 + mixup_gamma * x2)
        score = torch.abs(out - mix).reshape(shape[0], -1).sum(1).mean()
        log_bn = 0.0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
                log_bn += float(torch.log(torch.sqrt(torch.mean(m.running_var))))
        res.zen = float(torch.log(score)) + log_bn


def run_passes(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None,
    needs: set[str],
    loss_fn: Callable | None = None,
    split_data: int = 1,
    seed: int = 0,
    res: PassResults | None = None,
) -> PassResults:
    """Run exactly the passes in ``needs`` (the data passes share one forward) and return their results.

    Passes already present in ``res.passes_run`` are skipped, so a caller can retry after an out-of-memory error.
    """
    unknown = set(needs) - set(PASSES)
    if unknown:
        raise ValueError(f"unknown passes {sorted(unknown)}; known: {PASSES}")
    loss_fn = loss_fn or F.cross_entropy
    res = res if res is not None else PassResults(layers=metric_layers(model))
    device = inputs.device
    done = set(res.passes_run)
    if "weights" in needs and "weights" not in done:
        res.passes_run.append("weights")
        res.times["weights"] = 0.0
    if "stats" in needs and "stats" not in done:
        with _timed(res, "stats", device):
            stats_pass(model, inputs, res)
    data = (set(needs) & DATA_PASSES) - done
    if data:
        res.split_data = split_data
        _sync(device)
        t0 = time.perf_counter()
        data_pass(model, inputs, targets, data, loss_fn, split_data, res)
        _sync(device)
        share = (time.perf_counter() - t0) / len(data)
        for p in sorted(data, key=PASSES.index):
            res.times[p] = share
            res.passes_run.append(p)
    if "synflow" in needs and "synflow" not in done:
        with _timed(res, "synflow", device):
            synflow_pass(model, inputs, res)
    if "zen" in needs and "zen" not in done:
        with _timed(res, "zen", device):
            zen_pass(model, inputs, seed, res)
    return res
