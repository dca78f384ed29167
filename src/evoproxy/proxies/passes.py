"""Running the passes the requested proxies need, each once, through the pass registry.

A pass (registered with :func:`~evoproxy.proxies.registry.register_pass`) is either

- a function ``fn(ctx: PassContext) -> output``, run on its own (``weights``, ``stats``, ``synflow``, ``zen``), or
- a :class:`MinibatchStep`: a step of the one shared train-mode forward of the minibatch (``forward``: nwot's ReLU
  codes, ``jacobian``, ``grad``: the loss gradient, ``fisher``, ``hessian``: grasp's Hessian-gradient product).
  All requested steps share the forward of each chunk (the whole batch unless ``split_data`` > 1 after a CUDA
  out-of-memory error) and its graph: the loss gradient w.r.t. the weights (and any activations a step asks
  for) is one backward, :meth:`Chunk.loss_grad`.

Each output lands in ``PassResults.outputs[name]`` (``results[name]``), which the proxies read. Every pass leaves
the caller's model as it found it: the shared forward restores BatchNorm buffers and train/eval flags; passes that
change weights work on a copy.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from evoproxy.proxies.registry import PASS_REGISTRY, ProxyError, pass_order


def metric_layers(model: nn.Module) -> list[nn.Module]:
    """The layers whose weights the per-weight proxies score: every convolution and linear layer (NASLib's
    ``get_layer_metric_array`` uses Conv2d and Linear), in module order, each once."""
    return [m for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))]


def logits_of(out: object) -> torch.Tensor:
    """The output tensor of a model: the tensor itself, or the first element of a tuple (e.g. with aux heads)."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"model returned {type(out).__name__}, expected a tensor (logits or a dense output)")
    return out


def is_oom(exc: BaseException) -> bool:
    """True for a CUDA (or other accelerator) out-of-memory error."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc)


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
def hooks(handles: list) -> Iterator[list]:
    """Remove the given hook handles on exit."""
    try:
        yield handles
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def swapped(model: nn.Module, replace: dict[int, torch.Tensor]) -> Iterator[None]:
    """Run ``model`` with some of its parameters and buffers replaced (keyed by ``id`` of the original tensor, so a
    tensor shared by several modules is replaced everywhere); restored on exit. Cheaper than a deep copy of the
    model (an NB201 net: 85 ms to copy, 30 ms to build) for passes that score other weights."""
    saved = []
    for m in model.modules():
        for store in (m._parameters, m._buffers):
            for name, t in store.items():
                if t is not None and id(t) in replace:
                    saved.append((store, name, t))
    try:
        for store, name, t in saved:
            store[name] = replace[id(t)]
        yield
    finally:
        for store, name, t in saved:
            store[name] = t


class ChannelsLastPooling(TorchFunctionMode):
    """Run 2-d average and max pooling of contiguous CPU tensors in channels-last layout and convert back.

    PyTorch's NCHW CPU pooling kernels are scalar (an NB201 ``avg_pool_3x3`` at batch 64 takes several ms, 4-7x
    its channels-last time, forward and backward alike). The channels-last kernels sum each window in the same
    order, so outputs and gradients are bit-identical (tests/test_proxies_unit.py checks it); other calls pass
    through unchanged.
    """

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if (func is F.avg_pool2d or func is F.max_pool2d) and args:
            x = args[0]
            indices = func is F.max_pool2d and kwargs.get("return_indices", len(args) > 6 and args[6])
            if (isinstance(x, torch.Tensor) and x.dim() == 4 and x.device.type == "cpu" and x.is_contiguous()
                    and x.shape[1] > 1 and not indices):
                # the pooling backward gets channels-last gradients (mixed layouts take its slow path) and passes
                # NCHW gradients on (hook on the input's conversion), so the kernels upstream stay the same
                xc = x.contiguous(memory_format=torch.channels_last)
                if xc.requires_grad:
                    xc.register_hook(_to_nchw)
                yc = func(xc, *args[1:], **kwargs)
                if yc.requires_grad:
                    yc.register_hook(_to_channels_last)
                return yc.contiguous()
        return func(*args, **kwargs)


def _to_nchw(grad: torch.Tensor) -> torch.Tensor:
    out = grad.contiguous()
    if out.requires_grad and out is not grad:  # a differentiable backward (grasp): the same again one order up
        out.register_hook(_to_channels_last)
    return out


def _to_channels_last(grad: torch.Tensor) -> torch.Tensor:
    out = grad.contiguous(memory_format=torch.channels_last)
    if out.requires_grad and out is not grad:
        out.register_hook(_to_nchw)
    return out


# ------------------------------------------------------------------------------------------------ what passes see
@dataclass
class PassContext:
    """What a pass works from: the model, the minibatch, the loss, the seed and the batch split."""

    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor | None
    loss_fn: Callable
    seed: int
    split_data: int
    layers: list[nn.Module]
    users: dict[str, list[str]] = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return self.inputs.device

    def proxies_of(self, *passes: str) -> str:
        """The requested proxies that need any of ``passes`` (for error messages), or the pass names."""
        names = sorted({n for p in passes for n in self.users.get(p, [])})
        return "/".join(names) if names else "/".join(passes)


@dataclass
class PassResults:
    """The pass outputs keyed by pass name (``results[name]``), plus the scored layers, labels and timings."""

    layers: list[nn.Module]
    targets: np.ndarray | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    passes_run: list[str] = field(default_factory=list)
    split_data: int = 1

    def __getitem__(self, name: str) -> Any:
        if name not in self.outputs:
            raise KeyError(f"pass {name!r} did not run (ran: {self.passes_run}); declare it in the proxy's needs")
        return self.outputs[name]

    def require_layers(self, proxy: str) -> list[nn.Module]:
        if not self.layers:
            raise ProxyError(proxy, "the model has no convolution or linear layer to score")
        return self.layers


def accumulate(acc: list, i: int, t: torch.Tensor | None) -> None:
    """``acc[i] += t`` (detached) over chunks, starting from None."""
    if t is not None:
        acc[i] = t.detach() if acc[i] is None else acc[i] + t.detach()


# --------------------------------------------------------------------------------------- the shared minibatch pass
@dataclass
class LossGrad:
    """One chunk's loss gradient: per metric layer w.r.t. its weight, and w.r.t. the tensors each step asked for."""

    weights: tuple[torch.Tensor | None, ...]
    extra: dict[str, tuple[torch.Tensor | None, ...]]


class Chunk:
    """One chunk's forward (input ``x``, output ``y``) and, computed once on first use, its loss gradient."""

    def __init__(self, ctx: PassContext, start: int, end: int, x: torch.Tensor, y: torch.Tensor,
                 create_graph: bool, extra: dict[str, list[torch.Tensor]]) -> None:
        self.ctx, self.start, self.end, self.x, self.y = ctx, start, end, x, y
        self.create_graph = create_graph
        self.extra = extra
        self._grad: LossGrad | None = None

    @property
    def targets(self) -> torch.Tensor | None:
        t = self.ctx.targets
        return None if t is None else t[self.start : self.end]

    def loss_grad(self) -> LossGrad:
        """d loss / d (metric-layer weights and every step's extra tensors), one backward with the graph kept
        (differentiable when a step set ``create_graph``)."""
        if self._grad is None:
            weights = [m.weight for m in self.ctx.layers]
            names = list(self.extra)
            flat = [t for n in names for t in self.extra[n]]
            loss = self.ctx.loss_fn(self.y, self.targets)
            g = torch.autograd.grad(loss, weights + flat, allow_unused=True, create_graph=self.create_graph,
                                    retain_graph=True)
            extra, at = {}, len(weights)
            for n in names:
                extra[n] = g[at : at + len(self.extra[n])]
                at += len(self.extra[n])
            self._grad = LossGrad(g[: len(weights)], extra)
        return self._grad


class MinibatchStep:
    """A step of the shared train-mode forward of the minibatch; subclass and register with ``register_pass``.

    One instance per run, built with the context and the number of chunks. For each chunk the runner installs the
    step's :meth:`hooks` for the forward, collects :meth:`grad_inputs` (tensors, e.g. activations the hooks saw,
    that the chunk's one loss backward should also differentiate), then calls :meth:`on_chunk`; :meth:`finish`
    returns the pass output (still inside the train-mode, state-restoring context). The chunk forwards run inside
    every step's :meth:`forward_mode`.

    Class flags: ``needs_graph`` (the step backpropagates, so the forward records a graph), ``input_grad`` (it
    differentiates w.r.t. the input chunk ``x``), ``uses_loss`` (it needs targets), ``whole_batch`` (with the batch
    split, run on one no-grad forward of the whole batch instead of the chunks; for steps that need every pair of
    samples and little memory). Instance flag ``create_graph``: the loss gradient must be differentiable.
    """

    needs_graph: bool = True
    input_grad: bool = False
    uses_loss: bool = False
    whole_batch: bool = False

    name: str = ""  # the registered pass name (set by the runner); keys the step's tensors in LossGrad.extra

    def __init__(self, ctx: PassContext, n_chunks: int) -> None:
        self.ctx = ctx
        self.n_chunks = n_chunks
        self.create_graph = False

    def hooks(self) -> list:
        return []

    def grad_inputs(self) -> list[torch.Tensor]:
        return []

    def forward_mode(self) -> contextlib.AbstractContextManager:
        """A context the chunk forwards run in (e.g. a :class:`TorchFunctionMode` that swaps in cheaper autograd
        functions with the same values); none by default."""
        return contextlib.nullcontext()

    def on_chunk(self, chunk: Chunk) -> None:
        pass

    def finish(self) -> Any:
        return None


def shared_forward(ctx: PassContext, steps: dict[str, type[MinibatchStep]]) -> dict[str, Any]:
    """Run the minibatch steps ``steps`` (name -> class) on one train-mode forward per chunk; their outputs.

    With ``ctx.split_data`` > 1 the batch is processed in that many chunks like zero-cost-nas does; the steps
    decide how they combine chunks (sums of per-chunk mean-loss gradients, concatenated Jacobians, ...).
    """
    model, inputs = ctx.model, ctx.inputs
    n, k = inputs.shape[0], ctx.split_data
    objs = {name: cls(ctx, k) for name, cls in steps.items()}
    for name, s in objs.items():
        s.name = name
    lossy = [name for name, s in objs.items() if s.uses_loss]
    if lossy and ctx.targets is None:
        raise ProxyError(ctx.proxies_of(*lossy), "targets are required for the loss gradient")
    if lossy and not ctx.layers:
        raise ProxyError(ctx.proxies_of(*lossy), "the model has no convolution or linear layer")
    with preserved(model):
        model.train()
        chunked = dict(objs)
        if k > 1:
            whole = [s for s in objs.values() if s.whole_batch]
            if whole:
                with hooks([h for s in whole for h in s.hooks()]), torch.no_grad():
                    model(inputs)
                chunked = {name: s for name, s in objs.items() if not s.whole_batch}
        if chunked:
            input_grad = any(s.input_grad for s in chunked.values())
            graph = any(s.needs_graph for s in chunked.values())
            create_graph = any(s.create_graph for s in chunked.values())
            for sp in range(k):
                st, en = sp * n // k, (sp + 1) * n // k
                x = inputs[st:en].detach().clone()
                if input_grad:
                    x.requires_grad_(True)
                with (hooks([h for s in chunked.values() for h in s.hooks()]), torch.set_grad_enabled(graph),
                      contextlib.ExitStack() as modes):
                    for s in chunked.values():
                        modes.enter_context(s.forward_mode())
                    y = logits_of(model(x))
                extra = {name: t for name, s in chunked.items() if (t := s.grad_inputs())}
                chunk = Chunk(ctx, st, en, x, y, create_graph, extra)
                for s in chunked.values():
                    s.on_chunk(chunk)
                del chunk, y
        return {name: s.finish() for name, s in objs.items()}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_passes(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None,
    needs: set[str],
    loss_fn: Callable | None = None,
    split_data: int = 1,
    seed: int = 0,
    res: PassResults | None = None,
    users: dict[str, list[str]] | None = None,
) -> PassResults:
    """Run exactly the passes in ``needs`` (the minibatch steps on one shared forward) and return their results.

    Passes already in ``res.passes_run`` are skipped, so a caller can retry after an out-of-memory error. The
    shared forward's seconds are split evenly among its steps.
    """
    order = pass_order(needs)
    res = res if res is not None else PassResults(layers=metric_layers(model))
    ctx = PassContext(model, inputs, targets, loss_fn or F.cross_entropy, seed, split_data, res.layers, users or {})
    if targets is not None:
        res.targets = targets.detach().cpu().numpy()
    todo = [p for p in order if p not in res.passes_run]
    shared = [p for p in todo if PASS_REGISTRY[p].shared]
    device = inputs.device
    # the pooling fix is for CPU kernels; elsewhere the mode would only add Python overhead to every torch call
    with ChannelsLastPooling() if device.type == "cpu" else contextlib.nullcontext():
        for p in todo:
            spec = PASS_REGISTRY[p]
            if spec.shared and p != shared[0]:
                continue
            _sync(device)
            t0 = time.perf_counter()
            if spec.shared:
                res.split_data = split_data
                outs = shared_forward(ctx, {q: PASS_REGISTRY[q].impl for q in shared})
            else:
                outs = {p: spec.impl(ctx)}
            _sync(device)
            dt = (time.perf_counter() - t0) / len(outs)
            for q, out in outs.items():
                res.outputs[q] = out
                res.times[q] = dt
                res.passes_run.append(q)
    return res
