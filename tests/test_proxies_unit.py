"""Each proxy against a hand-computed value or an independent formula, on tiny generated networks."""

from __future__ import annotations

import contextlib
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.spatial.distance import cdist

from evoproxy import PROXIES
from evoproxy.proxies import ProxyError, available, compute, compute_detailed, passes_for
from evoproxy.proxies.epe_nas import epe_score
from evoproxy.proxies.passes import metric_layers


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    )


class MLP(nn.Module):
    """Two linear layers with a ReLU, exposing its pre-activations for independent checks."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc1 = nn.Linear(12, 7)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(7, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.z1 = self.fc1(x.flatten(1))
        self.z2 = self.fc2(self.act(self.z1))
        return self.z2


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)


@pytest.fixture
def mlp_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    return torch.randn(10, 12, generator=g), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])


def test_registry_has_the_13_release_proxies():
    assert available() == list(PROXIES)


def test_params_and_flops_hand_counted(batch):
    m = tiny_cnn()
    v = compute(m, *batch, names=["params", "flops"])
    assert v["params"] == sum(p.numel() for p in m.parameters()) / 1e6
    # torchstat conventions, per sample on 8x8: conv MACs (+bias), BN 2/elem (affine), ReLU 1/elem, GAP, linear
    flops = 9 * 3 * 8 * 64 + 8 * 64 * 2 + 8 * 64 + (9 * 8 * 16 * 64 + 16 * 64) + 16 * 64 * 2 + 16 * 64
    flops += 16 * (8 + 1) * (8 + 1) + 16 * 10
    assert v["flops"] == pytest.approx(flops / 1e6, rel=1e-12)


def test_l2_norm_is_sum_of_layer_norms(batch):
    m = tiny_cnn()
    want = sum(float(layer.weight.detach().norm()) for layer in metric_layers(m))
    assert compute(m, *batch, names=["l2_norm"])["l2_norm"] == pytest.approx(want, rel=1e-6)


def _loss_grads(m: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn=F.cross_entropy) -> list[torch.Tensor]:
    net = copy.deepcopy(m).train()
    net.zero_grad()
    loss_fn(net(x), y).backward()
    return [layer.weight.grad for layer in metric_layers(net)]


def test_snip_plain_grad_norm_from_direct_backward(batch):
    m = tiny_cnn()
    grads = _loss_grads(m, *batch)
    ws = [layer.weight.detach() for layer in metric_layers(m)]
    v = compute(m, *batch, names=["snip", "plain", "grad_norm"])
    assert v["snip"] == pytest.approx(sum(float((g * w).abs().sum()) for g, w in zip(grads, ws, strict=True)), rel=1e-5)
    assert v["plain"] == pytest.approx(sum(float((g * w).sum()) for g, w in zip(grads, ws, strict=True)), rel=1e-4)
    assert v["grad_norm"] == pytest.approx(sum(float(g.norm()) for g in grads), rel=1e-5)


def test_custom_loss_fn_is_used(batch):
    m = tiny_cnn()
    base = compute(m, *batch, names=["snip", "grasp"])
    doubled = compute(m, *batch, names=["snip", "grasp"], loss_fn=lambda o, t: 2 * F.cross_entropy(o, t))
    assert doubled["snip"] == pytest.approx(2 * base["snip"], rel=1e-5)
    assert doubled["grasp"] == pytest.approx(4 * base["grasp"], rel=1e-4)  # H and g both double


def test_grasp_equals_hessian_vector_product(mlp_batch):
    m = MLP()
    x, y = mlp_batch
    names = [n for n, _ in m.named_parameters() if n.endswith("weight")]
    params = {n: p.detach() for n, p in m.named_parameters()}

    def loss_of(*ws):
        p = dict(params)
        p.update(zip(names, ws, strict=True))
        return F.cross_entropy(torch.func.functional_call(m, p, (x,)), y)

    ws = tuple(params[n] for n in names)
    grads = torch.autograd.functional.jacobian(loss_of, ws)
    _, hg = torch.autograd.functional.hvp(loss_of, ws, tuple(t.detach() for t in grads))
    want = -sum(float((w * h).sum()) for w, h in zip(ws, hg, strict=True))
    assert compute(m, x, y, names=["grasp"])["grasp"] == pytest.approx(want, rel=1e-4)


def test_fisher_from_retained_activation_grads(mlp_batch):
    m = MLP()
    x, y = mlp_batch
    net = copy.deepcopy(m)
    out = net(x)
    net.z1.retain_grad()
    net.z2.retain_grad()
    F.cross_entropy(out, y).backward()
    want = 0.0
    for z, layer in ((net.z1, net.fc1), (net.z2, net.fc2)):
        per_channel = 0.5 * (z.detach() * z.grad).pow(2).mean(0)
        want += float(per_channel.sum()) * layer.in_features  # broadcast to the channel's weights, as NASLib
    assert compute(m, x, y, names=["fisher"])["fisher"] == pytest.approx(want, rel=1e-5)


def test_nwot_is_logdet_of_hamming_kernel(mlp_batch):
    m = MLP()
    x, y = mlp_batch
    x, y = x[:6], y[:6]  # K is an integer matrix: with 10 samples of 7 units it is singular (log|det| = -inf, or
    # LAPACK's rounding noise, which differs between CPUs); 6 samples give a regular K
    with torch.no_grad():
        m(x)
        codes = (m.z1 > 0).numpy()
    k = codes.shape[1] * (1.0 - cdist(codes, codes, "hamming"))
    sign, want = np.linalg.slogdet(k)
    assert sign == 1 and round(np.exp(want)) >= 1  # regular: |det| is a positive integer
    assert compute(m, x, y, names=["nwot"])["nwot"] == pytest.approx(want, rel=1e-9)


def test_jacov_from_autograd_jacobian(mlp_batch):
    m = MLP()
    x, y = mlp_batch
    jac = torch.autograd.functional.jacobian(lambda inp: m(inp).sum(), x).reshape(len(x), -1).numpy()
    v, _ = np.linalg.eig(np.corrcoef(jac))
    want = -np.sum(np.log(v.real + 1e-5) + 1.0 / (v.real + 1e-5))
    got = compute(m, x, y, names=["jacov"])["jacov"]
    assert got == pytest.approx(want, rel=1e-4)
    assert got < 0


def test_epe_score_hand_cases():
    k = 1e-5
    # two classes with one sample each (corrcoef = 1) and one class with two identical rows (all-ones matrix)
    jac = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [1.0, 0.0, 5.0], [1.0, 0.0, 5.0]])
    labels = np.array([0, 1, 2, 2])
    assert epe_score(jac, labels, 10) == pytest.approx(2 * abs(math.log(1 + k)) + 4 * abs(math.log(1 + k)))
    # two anti-correlated rows: |corr| = 1 everywhere, again 4 log(1+k); uncorrelated rows add log(k) terms
    jac2 = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    assert epe_score(jac2, np.array([0, 0]), 10) == pytest.approx(4 * math.log(1 + k))
    jac3 = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
    assert epe_score(jac3, np.array([5, 5]), 10) == pytest.approx(abs(2 * math.log(1 + k) + 2 * math.log(k)))


def test_synflow_is_log_of_twice_the_path_norm_for_a_two_layer_linear_net():
    torch.manual_seed(3)
    m = nn.Sequential(nn.Flatten(), nn.Linear(6, 5, bias=False), nn.Linear(5, 3, bias=False))
    x = torch.randn(4, 6)
    w1, w2 = m[1].weight.detach().abs().double(), m[2].weight.detach().abs().double()
    r = float(torch.ones(3, dtype=torch.float64) @ w2 @ w1 @ torch.ones(6, dtype=torch.float64))
    # each bias-free layer's sum of |w * dR/dw| equals R (homogeneity), so the sum over two layers is 2R
    assert compute(m, x, None, names=["synflow"])["synflow"] == pytest.approx(math.log(2 * r), rel=1e-12)


def test_zen_ignores_trained_weights_and_depends_on_seed(batch):
    a, b = tiny_cnn(0), tiny_cnn(7)
    za = compute(a, *batch, names=["zen"], seed=0)["zen"]
    assert compute(b, *batch, names=["zen"], seed=0)["zen"] == pytest.approx(za, rel=1e-6)  # Gaussian re-init
    assert compute(a, *batch, names=["zen"], seed=1)["zen"] != za
    assert math.isfinite(za)


def test_all_proxies_deterministic_and_model_untouched(batch):
    m = tiny_cnn()
    m.eval()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    v1 = compute(m, *batch)
    v2 = compute(m, *batch)
    assert set(v1) == set(PROXIES)
    assert v1 == v2
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert not m.training
    assert all(p.grad is None for p in m.parameters())


def test_subset_runs_only_needed_passes(batch):
    m = tiny_cnn()
    assert compute_detailed(m, *batch, names=["snip"]).passes == ["grad"]
    assert compute_detailed(m, *batch, names=["params", "flops"]).passes == ["stats"]
    assert compute_detailed(m, *batch, names=["l2_norm"]).passes == ["weights"]
    assert compute_detailed(m, *batch, names=["nwot", "jacov"]).passes == ["forward", "jacobian"]
    assert passes_for(["zen", "synflow"]) == ["synflow", "zen"]


def test_minibatch_proxies_share_one_forward(batch):
    m = tiny_cnn()
    calls = []
    m.register_forward_pre_hook(lambda mod, inp: calls.append(inp[0].shape[0]))
    compute(m, *batch, names=["nwot", "jacov", "epe_nas", "snip", "grad_norm", "plain", "fisher", "grasp"])
    assert calls == [16]
    calls.clear()
    compute(m, *batch)  # + stats (1 sample), synflow (1 sample, on a copy) and zen (2 forwards, on a copy)
    assert sorted(calls) == [1, 1, 16, 16, 16]


def test_simulated_cuda_oom_splits_the_batch(batch, monkeypatch):
    from evoproxy.proxies import passes

    m = tiny_cnn()
    real = passes.shared_forward
    seen = []

    def flaky(ctx, steps):
        seen.append(ctx.split_data)
        if ctx.split_data == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(ctx, steps)

    monkeypatch.setattr(passes, "shared_forward", flaky)
    names = ["snip", "nwot", "jacov", "grasp", "params"]
    res = compute_detailed(m, *batch, names=names)
    assert seen == [1, 2]
    assert res.split_data == 2
    assert res.passes == ["stats", "forward", "jacobian", "grad", "hessian"]  # stats ran once, before the OOM
    monkeypatch.setattr(passes, "shared_forward", real)
    assert res.values == compute(m, *batch, names=names, split_data=2)


def test_oom_that_persists_gives_a_clear_error(batch, monkeypatch):
    from evoproxy.proxies import passes

    def always(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(passes, "shared_forward", always)
    with pytest.raises(ProxyError, match="out of memory even with the batch of 16 split into 8"):
        compute(tiny_cnn(), *batch, names=["snip"])


def test_split_batch_keeps_full_batch_proxies_close(batch):
    m = tiny_cnn()
    full = compute(m, *batch, names=["nwot", "grad_norm"])
    split = compute(m, *batch, names=["nwot", "grad_norm"], split_data=4)
    assert split["nwot"] == full["nwot"]  # computed on the whole batch either way
    assert split["grad_norm"] > full["grad_norm"]  # sum of per-chunk mean losses, as zero-cost-nas


def test_errors_name_the_proxy(batch):
    no_relu = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    with pytest.raises(ProxyError, match="'nwot'.*ReLU"):
        compute(no_relu, *batch, names=["nwot"])
    no_gap = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 10))
    with pytest.raises(ProxyError, match="'zen'.*AdaptiveAvgPool2d"):
        compute(no_gap, *batch, names=["zen"])
    with pytest.raises(ProxyError, match="'nwot2'.*unknown proxy"):
        compute(no_gap, *batch, names=["nwot2"])
    with pytest.raises(ValueError, match="split_data=3"):
        compute(no_gap, *batch, names=["snip"], split_data=3)
    assert isinstance(ProxyError("x", "y"), ValueError)


def test_zen_uses_forward_before_global_avg_pool_when_present(batch):
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 10)

        def forward_before_global_avg_pool(self, x):
            return F.relu(self.bn(self.conv(x)))

        def forward(self, x):
            return self.fc(self.forward_before_global_avg_pool(x).mean((2, 3)))

    assert math.isfinite(compute(Net(), *batch, names=["zen"])["zen"])


@pytest.mark.parametrize("pool", [
    lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),  # NB201 avg_pool_3x3
    lambda x: F.avg_pool2d(x, 2, 2),  # NB201 reduction shortcut
    lambda x: F.max_pool2d(x, 3, 2, 1),  # DARTS max_pool_3x3
    lambda x: nn.AvgPool2d(3, 1, 1)(x),
    lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) * F.max_pool2d(x, 3, 1, 1),  # one input, reused
])
def test_channels_last_pooling_is_bit_identical(pool):
    from evoproxy.proxies.passes import ChannelsLastPooling

    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 5, 9, 11, generator=g)
    w = torch.randn(5, 5, 3, 3, generator=g, requires_grad=True)

    def run(mode: bool) -> list[torch.Tensor]:
        x = x0.clone().requires_grad_(True)
        with ChannelsLastPooling() if mode else contextlib.nullcontext():
            y = pool(F.conv2d(x, w, padding=1)).pow(2).sum()
            gx, gw = torch.autograd.grad(y, (x, w), create_graph=True)
            (hw,) = torch.autograd.grad((gw * gw.detach()).sum() + gx.sum(), w)
        return [y, gx, gw, hw]

    for a, b in zip(run(False), run(True), strict=True):
        assert torch.equal(a, b)
        assert a.stride() == b.stride()  # same layout: downstream kernels see the same tensors


@pytest.mark.parametrize(("shape", "affine", "stats"), [
    ((6, 4, 5, 7), True, True), ((6, 4, 5, 7), False, True), ((6, 4, 5, 7), True, False), ((9, 3), True, True),
])
def test_lean_batchnorm_double_backward(shape, affine, stats):
    """Same forward and first backward as F.batch_norm, bit for bit; the double backward (w.r.t. the input and
    the output gradient, through a conv weight like grasp's) equals PyTorch's in float64."""
    from evoproxy.proxies.second_order import LeanBatchNormDoubleBackward

    g = torch.Generator().manual_seed(0)
    c = shape[1]
    x0 = torch.randn(shape, generator=g) * 3 + 1
    w0 = torch.randn((c, c) + (1,) * (len(shape) - 2), generator=g)
    gamma = torch.rand(c, generator=g) + 0.5 if affine else None
    beta = torch.randn(c, generator=g) if affine else None
    v = torch.randn(shape, generator=g)

    def run(lean: bool, dtype: torch.dtype) -> list[torch.Tensor]:
        x = x0.to(dtype).requires_grad_(True)
        w = w0.to(dtype).requires_grad_(True)
        gm = None if gamma is None else gamma.to(dtype).requires_grad_(True)
        bt = None if beta is None else beta.to(dtype).requires_grad_(True)
        rm, rv = (torch.zeros(c, dtype=dtype), torch.ones(c, dtype=dtype)) if stats else (None, None)
        with LeanBatchNormDoubleBackward() if lean else contextlib.nullcontext():
            h = x @ w.t() if len(shape) == 2 else F.conv2d(x, w)
            y = F.batch_norm(h, rm, rv, gm, bt, True, 0.1, 1e-5)
        loss = (y.tanh() * v.to(dtype)).sum()
        gx, gw = torch.autograd.grad(loss, (x, w), create_graph=True)
        first = [y, gx, gw] + ([rm, rv] if stats else [])
        second = torch.autograd.grad((gw * gw.detach()).sum() + (gx * v.to(dtype)).sum(), (x, w))
        return first + list(second)

    ref, lean = run(False, torch.float32), run(True, torch.float32)
    for a, b in zip(ref[:-2], lean[:-2], strict=True):
        assert torch.equal(a, b)
    ref, lean = run(False, torch.float64), run(True, torch.float64)
    for a, b in zip(ref[-2:], lean[-2:], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_every_pass_a_proxy_needs_is_registered():
    from evoproxy.proxies import PASS_REGISTRY, REGISTRY

    assert {p for spec in REGISTRY.values() for p in spec.needs} <= set(PASS_REGISTRY)
    assert passes_for(None) == ["weights", "stats", "forward", "jacobian", "grad", "fisher", "hessian", "synflow",
                                "zen"]
    assert [p for p in PASS_REGISTRY if not PASS_REGISTRY[p].needs_data] == ["stats", "weights", "synflow", "zen"]


def test_zen_and_synflow_restore_the_model_they_swap_tensors_into(batch):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 10))
    params = list(net.parameters())
    state = {k: v.clone() for k, v in net.state_dict().items()}

    def unchanged() -> bool:
        return (all(a is b for a, b in zip(net.parameters(), params, strict=True))
                and all(isinstance(p, nn.Parameter) for p in net.parameters())
                and all(torch.equal(state[k], v) for k, v in net.state_dict().items())
                and "forward" not in net[1].__dict__ and net.training)

    with pytest.raises(ProxyError, match="'zen'"):  # fails inside the swap: no global average pooling
        compute(net, *batch, names=["zen"])
    assert unchanged()
    assert math.isfinite(compute(net, *batch, names=["synflow"])["synflow"])
    assert unchanged()
