"""The 13 zero-cost proxies of NAS-Bench-Suite-Zero for any PyTorch network, and the registries to add more.

    from evoproxy.proxies import compute
    scores = compute(model, inputs, targets, names=["nwot", "synflow"])   # {'nwot': ..., 'synflow': ...}

Definitions and output conventions follow NASLib's ``zerocost`` branch, which produced the NAS-Bench-Suite-Zero
release (synflow log-scaled, params and flops in millions, jacov negative, ...), so computed values are comparable
with the benchmark tables. Each proxy declares the passes it reads (:mod:`evoproxy.proxies.passes`); asking for a
subset runs only the passes that subset needs, and the minibatch proxies share one forward. The model is left as it
was (weights, BatchNorm statistics, train/eval flags); the same model, batch and ``seed`` give identical values.

Every module of this package is imported here and registers its proxies and passes, so a new proxy (with a pass
of its own, if it needs one) is one new file here, or any module the user imports (README, "Adding a proxy").
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from evoproxy import PROXIES
from evoproxy.proxies.passes import PassContext, PassResults, is_oom, metric_layers, run_passes
from evoproxy.proxies.registry import (
    PASS_REGISTRY,
    REGISTRY,
    PassSpec,
    ProxyError,
    ProxySpec,
    pass_order,
    register,
    register_pass,
    unregister,
    unregister_pass,
)

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")  # each proxy / pass module registers itself


def available() -> list[str]:
    """Names of the registered proxies, the 13 of the release first in their canonical order."""
    return [p for p in PROXIES if p in REGISTRY] + sorted(set(REGISTRY) - set(PROXIES))


def resolve(names: Iterable[str] | str | None) -> list[str]:
    """Validate proxy names (None or 'all' -> every proxy); raise :class:`ProxyError` for an unknown one."""
    if names is None or names == "all":
        return available()
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for n in names:
        if n not in REGISTRY:
            raise ProxyError(n, f"unknown proxy; available: {', '.join(available())}")
        if n not in out:
            out.append(n)
    if not out:
        raise ProxyError("", "no proxy requested")
    return out


def passes_for(names: Iterable[str] | str | None) -> list[str]:
    """The passes the given proxies need, in execution order."""
    return pass_order({p for n in resolve(names) for p in REGISTRY[n].needs})


@dataclass
class ProxyResult:
    """Values and per-proxy seconds (the proxy's passes, a shared pass split evenly among its parts, plus its own
    reduction), the passes that ran, the batch split used and the seconds of each pass."""

    values: dict[str, float]
    times: dict[str, float]
    passes: list[str]
    split_data: int
    pass_times: dict[str, float] = field(default_factory=dict)


def compute_detailed(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None,
    names: Iterable[str] | str | None = None,
    loss_fn: Callable | None = None,
    split_data: int = 1,
    seed: int = 0,
    retry_oom: bool = True,
) -> ProxyResult:
    """Like :func:`compute`, with timings and the passes that ran.

    On a CUDA out-of-memory error in the shared minibatch pass the batch is split into more parts (the next divisor
    of the batch size, as zero-cost-nas does) and the pass retried; passes already done are kept.
    """
    names = resolve(names)
    if not isinstance(inputs, torch.Tensor) or inputs.dim() < 2:
        raise ValueError("inputs must be a tensor of shape [N, ...] (a minibatch)")
    if targets is not None and len(targets) != len(inputs):
        raise ValueError(f"targets has {len(targets)} entries for {len(inputs)} inputs")
    needs = {p for n in names for p in REGISTRY[n].needs}
    n = inputs.shape[0]
    if split_data < 1 or n % split_data:
        raise ValueError(f"split_data={split_data} must be a positive divisor of the batch size {n}")
    pass_order(needs)  # unknown passes fail here, before any work
    users = {p: [q for q in names if p in REGISTRY[q].needs] for p in needs}
    res = PassResults(layers=metric_layers(model))
    devices = [inputs.device.index or 0] if inputs.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        while True:
            try:
                run_passes(model, inputs, targets, needs, loss_fn, split_data, seed, res, users)
                break
            except Exception as exc:
                pending = [p for p in needs if p not in res.passes_run and PASS_REGISTRY[p].shared]
                if not (retry_oom and is_oom(exc) and pending):
                    raise
                if split_data >= n // 2:
                    raise ProxyError(",".join(names), f"out of memory even with the batch of {n} split into "
                                                      f"{split_data} parts") from exc
                split_data += 1
                while n % split_data:
                    split_data += 1
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
    values: dict[str, float] = {}
    times: dict[str, float] = {}
    for name in names:
        spec = REGISTRY[name]
        t0 = time.perf_counter()
        values[name] = float(spec.fn(res))
        times[name] = time.perf_counter() - t0 + sum(res.times.get(p, 0.0) for p in spec.needs)
    return ProxyResult(values, times, list(res.passes_run), res.split_data, dict(res.times))


def compute(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None,
    names: Iterable[str] | str | None = None,
    loss_fn: Callable | None = None,
    split_data: int = 1,
    seed: int = 0,
) -> dict[str, float]:
    """Compute zero-cost proxies of ``model`` on one minibatch: ``{name: value}`` for ``names`` (default: all 13).

    ``model``: any network returning logits or a dense output tensor (or a tuple whose first element is it), on
    the same device as ``inputs``. ``targets``: what ``loss_fn(output, targets)`` takes (needed by the loss-based
    proxies; epe_nas needs integer labels). ``loss_fn``: default cross-entropy. ``split_data``: process the minibatch in that many parts (chosen automatically on CUDA OOM).
    ``seed``: seeds dropout and zen's Gaussian draws. Raises :class:`ProxyError` (a ValueError) naming the proxy
    when it is unknown or its assumptions fail (e.g. nwot without ReLU, zen without global average pooling).
    """
    return compute_detailed(model, inputs, targets, names, loss_fn, split_data, seed).values


__all__ = [
    "PASS_REGISTRY",
    "REGISTRY",
    "PassContext",
    "PassResults",
    "PassSpec",
    "ProxyError",
    "ProxyResult",
    "ProxySpec",
    "available",
    "compute",
    "compute_detailed",
    "passes_for",
    "register",
    "register_pass",
    "resolve",
    "unregister",
    "unregister_pass",
]
