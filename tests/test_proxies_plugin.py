"""A proxy with a pass of its own is one file: tests/data/plugin_proxy.py registers two, which then work through
compute, ProxyEvaluator and extract like the 13 built-in ones."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from evoproxy import PROXIES
from evoproxy.extract import ProxyEvaluator, extract
from evoproxy.problems import load_table
from evoproxy.proxies import (
    PASS_REGISTRY,
    available,
    compute,
    compute_detailed,
    passes_for,
    unregister,
    unregister_pass,
)

PLUGIN = Path(__file__).resolve().parent / "data" / "plugin_proxy.py"
NEW = ["relu_balance", "logit_margin"]


@pytest.fixture
def plugin():
    """Import the plug-in module (it registers its proxies and passes) and unregister them afterwards."""
    spec = importlib.util.spec_from_file_location("plugin_proxy", PLUGIN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    for name in NEW:
        unregister(name)
    for name in ("relu_rates", "eval_logits"):
        unregister_pass(name)


def _net(seed: int | None = 0, width: int = 8) -> nn.Module:
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10),
    )


class WidthSpace:
    """Archs "4" / "8": the width of :func:`_net`'s convolutions (a search space as small as a test needs)."""

    name = "width"

    def canonical(self, arch: object) -> str:
        if str(arch) not in ("4", "8"):
            raise ValueError(f"width: bad arch {arch!r}")
        return str(arch)

    def sample(self, n: int, seed: int) -> list[str]:
        return ["4", "8"][:n]

    def to_model(self, arch: str, num_classes: int | None = None) -> nn.Module:
        return _net(None, width=int(arch))  # seeded by the evaluator


def _batch(n: int = 16, hw: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return torch.randn(n, 3, hw, hw, generator=g), torch.randint(0, 10, (n,), generator=g)


def _expected(net: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """The two plug-in proxies computed directly: train-mode ReLU rates, eval-mode logit margin."""
    import copy

    m = copy.deepcopy(net).train()
    rates = []
    for mod in m.modules():
        if isinstance(mod, nn.ReLU):
            mod.register_forward_hook(lambda _m, i, _o: rates.append(float((i[0] > 0).double().mean())))
    with torch.no_grad():
        m(x)
        top = copy.deepcopy(net).eval()(x).topk(2, dim=1).values
    return {"relu_balance": float(np.mean(np.abs(np.array(rates) - 0.5))),
            "logit_margin": float((top[:, 0] - top[:, 1]).mean())}


def test_plugin_registers_and_computes_like_a_builtin(plugin):
    assert available() == [*PROXIES, "logit_margin", "relu_balance"]
    assert passes_for(NEW) == ["relu_rates", "eval_logits"]
    assert PASS_REGISTRY["relu_rates"].shared and not PASS_REGISTRY["eval_logits"].shared
    net, (x, y) = _net(), _batch()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    got = compute(net, x, y, names=[*NEW, "nwot", "snip"])
    want = _expected(net, x)
    assert got["relu_balance"] == pytest.approx(want["relu_balance"], rel=1e-12)
    assert got["logit_margin"] == pytest.approx(want["logit_margin"], rel=1e-6)
    assert got["nwot"] == compute(net, x, y, names=["nwot"])["nwot"]  # built-ins unchanged beside the plug-in
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_plugin_step_shares_the_one_minibatch_forward(plugin):
    net, (x, y) = _net(), _batch()
    calls: list[tuple[int, bool]] = []
    net.register_forward_pre_hook(lambda m, inp: calls.append((inp[0].shape[0], m.training)))
    res = compute_detailed(net, x, y, names=[*NEW, "nwot", "jacov", "snip"])
    # one train-mode forward for nwot, jacov, snip and relu_balance; the eval forward of logit_margin
    assert calls == [(16, True), (16, False)]
    assert res.passes == ["forward", "jacobian", "grad", "relu_rates", "eval_logits"]
    split = compute(net, x, y, names=["relu_balance"], split_data=4)
    assert split["relu_balance"] == res.values["relu_balance"]  # whole_batch: the same codes with the batch split


def test_plugin_through_proxy_evaluator(plugin):
    x, y = _batch(8)
    ev = ProxyEvaluator(WidthSpace(), "cifar10", batch_size=8, seed=0, device="cpu", inputs=x, targets=y)
    arch = "4"
    got = ev.evaluate(arch, ["relu_balance", "logit_margin", "synflow"])
    assert got == compute(ev.model(arch), x, y, names=["relu_balance", "logit_margin", "synflow"])
    assert got["relu_balance"] == pytest.approx(_expected(ev.model(arch), x)["relu_balance"], rel=1e-12)


def test_plugin_through_extract(plugin, tmp_path):
    x, y = _batch(8)
    ev = ProxyEvaluator(WidthSpace(), "cifar10", batch_size=8, seed=0, device="cpu", inputs=x, targets=y)
    archs = ["4", "8"]
    out = tmp_path / "plug.parquet"
    extract(ev, archs, "relu_balance,nwot", out=out, progress=False)
    df = load_table(out, require_target=False).df.set_index("arch")
    assert df.loc[archs[0], "time_relu_balance"] > 0
    assert df.loc[archs[0], "relu_balance"] == ev.evaluate(archs[0], ["relu_balance"])["relu_balance"]
    assert "relu_balance" in load_table(out, require_target=False).proxies  # a terminal the GP can use


def test_unregistered_plugin_is_gone(plugin):
    unregister("relu_balance")
    unregister_pass("relu_rates")
    assert "relu_balance" not in available()
    with pytest.raises(ValueError, match="unknown proxy"):
        compute(_net(), *_batch(), names=["relu_balance"])
