"""TransNAS-Bench-101 micro and macro spaces: encodings, validity, enumeration, neighbours, task networks vs the
release (params, FLOPs) and the task losses."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from evoproxy.encodings import ArchEncodingError, canonical_arch
from evoproxy.proxies import compute
from evoproxy.proxies.flops import flop_counts
from evoproxy.spaces import SPACES, get_space
from evoproxy.spaces.tnb101 import TASKS
from evoproxy.spaces.tnb101_macro import counts_ok
from evoproxy.spaces.tnb101_micro import is_connected
from evoproxy.spaces.tnb101_net import SoftmaxCrossEntropyWithLogits

MIRROR_FILES = {"tnb101_micro": "zc_transbench101_micro.json", "tnb101_macro": "zc_transbench101_macro.json"}
RELEASED_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout")


@pytest.fixture(scope="module")
def micro():
    return get_space("tnb101_micro")


@pytest.fixture(scope="module")
def macro():
    return get_space("tnb101_macro")


def n_params(model: torch.nn.Module) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def release_style_flops(model: torch.nn.Module, x: torch.Tensor) -> float:
    """FLOPs (M) counted like torchstat/tensorwatch, which the release used: each leaf module's last call."""
    return flop_counts(model, x)[1]


def test_registry_and_aliases(micro, macro) -> None:
    assert {"tnb101_micro", "tnb101_macro"} <= set(SPACES)
    assert get_space("transbench101_micro").name == "tnb101_micro"
    assert get_space("transbench101_macro").name == "tnb101_macro"
    assert micro.default_task == macro.default_task == "class_scene"
    assert set(micro.tasks) == {"class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic",
                                "normal", "autoencoder"}
    with pytest.raises(ValueError, match="has no task 'cifar10'"):
        micro.task("cifar10")


def test_micro_encoding_and_net_code(micro) -> None:
    assert micro.canonical("(1,0,2,3,3,3)") == "(1, 0, 2, 3, 3, 3)"
    # the tuple is the TNB cell string a_bc_def in order (README example 64-41414-1_02_333)
    assert micro.net_code((1, 0, 2, 3, 3, 3)) == "64-41414-1_02_333"
    assert micro.describe("(0, 1, 2, 3, 0, 1)") == "64-41414-0_12_301"
    with pytest.raises(ArchEncodingError, match="6 op ids in 0..3"):
        micro.canonical("(0, 1, 2, 4, 0, 1)")
    assert micro.from_net_code("64-41414-1_02_333") == "(1, 0, 2, 3, 3, 3)"
    assert all(micro.from_net_code(micro.net_code(a)) == a for a in micro.sample(20, seed=0))
    with pytest.raises(ArchEncodingError, match="not a micro arch string"):
        micro.from_net_code("64-1234-basic")


def test_micro_enumeration_validity_neighbours(micro) -> None:
    archs = list(micro.enumerate())
    assert micro.size() == len(archs) == len(set(archs)) == 4096
    assert archs[0] == "(0, 0, 0, 0, 0, 0)" and archs[-1] == "(3, 3, 3, 3, 3, 3)"
    # independent count of degenerate cells: node 3 unreachable through non-zero edges, by adjacency powers
    degenerate = 0
    for ops in itertools.product(range(4), repeat=6):
        adj = np.zeros((4, 4), dtype=int)
        for (i, j), o in zip(((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)), ops, strict=True):
            adj[i, j] = int(o != 0)
        reach = adj + adj @ adj + adj @ adj @ adj
        degenerate += reach[0, 3] == 0
    assert sum(micro.is_valid(a) for a in archs) == 4096 - degenerate == micro.num_valid == 3927
    assert not is_connected((0, 0, 0, 0, 0, 0)) and is_connected((0, 0, 0, 1, 0, 0))
    assert not is_connected((1, 0, 1, 0, 0, 0))  # 0->1->2 but nothing into node 3
    nb = micro.neighbours("(3, 3, 3, 3, 3, 3)")
    assert len(nb) == 18 == len(set(nb))  # 6 edges x 3 other ops, all connected
    assert all(sum(a != b for a, b in zip(micro.parse(n), (3,) * 6, strict=True)) == 1 for n in nb)
    assert "(0, 0, 0, 0, 0, 0)" not in micro.neighbours("(0, 0, 0, 1, 0, 0)")
    s = micro.sample(50, seed=3)
    assert s == micro.sample(50, seed=3) and len(set(s)) == 50 and all(micro.is_valid(a) for a in s)
    m = micro.mutate("(1, 0, 2, 3, 3, 3)", seed=0)
    assert m in micro.neighbours("(1, 0, 2, 3, 3, 3)")


def test_macro_encoding_validity_enumeration(macro) -> None:
    assert macro.net_code((1, 2, 3, 4)) == "64-1234-basic"
    assert macro.from_net_code("64-2311-basic") == "(2, 3, 1, 1)"  # the TNB README's index2arch(1) example
    with pytest.raises(ArchEncodingError, match="not a macro arch string"):
        macro.from_net_code("64-41414-1_02_333")
    assert canonical_arch("tnb101_macro", "(1, 2, 3, 4, 0, 0)") == "(1, 2, 3, 4)"  # NASLib's zero padding
    with pytest.raises(ArchEncodingError, match="4 to 6 block codes"):
        macro.canonical("(1, 2, 3)")
    archs = list(macro.enumerate())
    assert macro.size() == len(archs) == len(set(archs)) == 3256 == macro.num_valid
    by_len = {n: sum(1 for a in archs if len(macro.parse(a)) == n) for n in (4, 5, 6)}
    assert by_len == {4: 210, 5: 750, 6: 2296}
    # by hand: no downsampling, or no channel doubling, or > 3 doublings are outside the space
    assert not macro.is_valid("(1, 1, 2, 2)") and not macro.is_valid("(1, 1, 3, 3)")
    assert not macro.is_valid("(2, 2, 2, 4)") and macro.is_valid("(2, 2, 4, 3)")
    assert not counts_ok((3, 3, 3, 3, 4, 2)) and counts_ok((3, 3, 3, 4, 1, 2))


def test_macro_neighbours_and_sampling(macro) -> None:
    nb = macro.neighbours("(1, 2, 3, 4)")
    assert len(nb) == len(set(nb)) and all(macro.is_valid(a) for a in nb)
    lens = {len(macro.parse(a)) for a in nb}
    assert lens == {4, 5}  # substitutions and insertions; no deletion below 4 layers
    assert "(1, 1, 2, 3, 4)" in nb and "(1, 2, 3, 3)" in nb and "(1, 2, 3, 4)" not in nb
    assert "(2, 3, 4)" not in nb
    six = macro.neighbours("(1, 1, 2, 2, 3, 4)")
    assert {len(macro.parse(a)) for a in six} == {5, 6}
    s = macro.sample(200, seed=0)
    assert len(set(s)) == 200 and all(macro.is_valid(a) for a in s)
    assert {len(macro.parse(a)) for a in s} == {4, 5, 6}
    assert macro.mutate("(1, 2, 3, 4)", seed=1) in nb


def test_params_by_hand(micro) -> None:
    # all-zero cell: only the stem and the head have weights
    stem = 3 * 9 * 32 + 2 * 32 + 32 * 9 * 64 + 2 * 64
    assert n_params(micro.to_model("(0, 0, 0, 0, 0, 0)")) * 1e6 == stem + 512 * 63 + 63  # class_scene default
    assert n_params(micro.model_for("(0, 0, 0, 0, 0, 0)", "class_object")) * 1e6 == stem + 512 * 100 + 100
    assert n_params(micro.model_for("(0, 0, 0, 0, 0, 0)", "room_layout")) * 1e6 == stem + 512 * 9 + 9
    assert n_params(micro.model_for("(0, 0, 0, 0, 0, 0)", "jigsaw")) * 1e6 == stem + 512 * 9 * 1000 + 1000
    with pytest.raises(ValueError, match="63 outputs, not 10"):
        micro.to_model("(0, 0, 0, 0, 0, 0)", num_classes=10)


def test_forward_shapes_per_task(micro, macro) -> None:
    torch.manual_seed(0)
    for space, arch in ((micro, "(1, 0, 1, 1, 0, 2)"), (macro, "(3, 4, 1, 1)")):
        with torch.no_grad():
            for task in ("class_scene", "class_object", "room_layout"):
                y = space.model_for(arch, task).eval()(torch.randn(2, 3, 64, 64))
                assert y.shape == (2, TASKS[task].num_outputs)
            y = space.model_for(arch, "jigsaw").eval()(torch.randn(1, 9, 3, 32, 32))
            assert y.shape == (1, 1000)


@pytest.mark.slow
def test_pixel_task_forward_shapes(micro, macro) -> None:
    x = torch.randn(1, 3, 256, 256)
    for space, arch in ((micro, "(1, 0, 0, 1, 0, 0)"), (macro, "(1, 3, 4, 1)")):
        with torch.no_grad():
            seg = space.model_for(arch, "segmentsemantic").eval()
            assert seg(x).shape == (1, 17, 256, 256)
            gen = space.model_for(arch, "autoencoder").eval()
            out = gen(x)
            assert out.shape == (1, 3, 256, 256) and out.abs().max() <= 1.0  # tanh
            assert gen.forward_before_global_avg_pool(x).shape == (1, 16, 256, 256)  # input of the last conv
        assert hasattr(gen, "discriminator")  # part of the GAN model object, never run by the forward
        assert compute(gen, x, None, ["params"])["params"] < n_params(gen)


def test_basic_block_keeps_the_original_shortcut_bn(macro) -> None:
    # BatchNorm2d(planes, True, True): eps = momentum = 1 (the released values were computed with this quirk)
    net = macro.to_model("(1, 3, 4, 1)")
    bns = [m for m in net.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.eps == 1.0]
    assert len(bns) == 2 and all(m.momentum == 1.0 for m in bns)


def test_losses() -> None:
    micro = get_space("tnb101_micro")
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    soft = torch.tensor([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])
    want = -(soft * torch.log(F.softmax(logits, -1) + 1e-5)).sum(-1).mean()
    assert isinstance(micro.loss_fn("class_object"), SoftmaxCrossEntropyWithLogits)
    assert micro.loss_fn("class_scene")(logits, soft).item() == pytest.approx(want.item())
    assert isinstance(micro.loss_fn("room_layout"), torch.nn.MSELoss)
    assert isinstance(micro.loss_fn("normal"), torch.nn.L1Loss)
    assert isinstance(micro.loss_fn("autoencoder"), torch.nn.L1Loss)
    assert micro.loss_fn("jigsaw") is F.cross_entropy is micro.loss_fn("segmentsemantic")
    assert get_space("nb201").loss_fn("cifar10") is None


def _records(mirror_dir: Path, space: str) -> dict:
    return json.loads((mirror_dir / MIRROR_FILES[space]).read_text())


def _check_params_and_flops(space_name: str, mirror_dir: Path, per_task: int, cheapest: bool) -> None:
    """Params exact; FLOPs exact except jigsaw, where the release counts the encoder once (torchstat keeps each
    module's last call) and our counter counts all 9 tile passes (release-style count: exact)."""
    space = get_space(space_name)
    data = _records(mirror_dir, space_name)
    rng = np.random.default_rng(0)
    for task in RELEASED_TASKS:
        recs = data[task]
        keys = sorted(recs, key=lambda k: recs[k]["flops"]["score"]) if cheapest else sorted(recs)
        picks = range(per_task) if cheapest else rng.choice(len(keys), size=per_task, replace=False)
        for i in picks:
            key = keys[i]
            net = space.model_for(key, task)
            x = torch.zeros(1, *space.task(task).input_shape)
            got = compute(net, x, None, ["params", "flops"])
            assert got["params"] == pytest.approx(recs[key]["params"]["score"], abs=1e-9), (task, key)
            assert n_params(net) == pytest.approx(recs[key]["params"]["score"], abs=1e-9), (task, key)
            release = recs[key]["flops"]["score"]
            assert release_style_flops(net, x) == pytest.approx(release, rel=1e-12), (task, key)
            if task == "jigsaw":
                head = 4608 * 9 + 4608 * 1000 if space_name == "tnb101_micro" else None
                if head is not None:  # 9 tile passes + head vs one tile pass + head
                    assert got["flops"] * 1e6 - head == pytest.approx(9 * (release * 1e6 - head), rel=1e-9)
            else:
                assert got["flops"] == pytest.approx(release, rel=1e-12), (task, key)


@pytest.mark.integration
@pytest.mark.parametrize("space_name", sorted(MIRROR_FILES))
def test_params_and_flops_equal_release_on_cheap_archs(space_name: str, mirror_dir: Path) -> None:
    _check_params_and_flops(space_name, mirror_dir, per_task=2, cheapest=True)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("space_name", sorted(MIRROR_FILES))
def test_params_and_flops_equal_release_on_a_sample(space_name: str, mirror_dir: Path) -> None:
    _check_params_and_flops(space_name, mirror_dir, per_task=15, cheapest=False)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("space_name", sorted(MIRROR_FILES))
def test_params_equal_release_on_every_mirror_arch(space_name: str, mirror_dir: Path) -> None:
    """Every mirror arch of every released task, built on the meta device (the same modules, no weight memory)."""
    space = get_space(space_name)
    data = _records(mirror_dir, space_name)
    bad, n = [], 0
    for task in RELEASED_TASKS:
        for key, rec in data[task].items():
            with torch.device("meta"):
                net = space.model_for(key, task)
            n += 1
            if not math.isclose(n_params(net), rec["params"]["score"], abs_tol=1e-9):
                bad.append((task, key))
    assert not bad, bad[:5]
    assert n == sum(len(data[t]) for t in RELEASED_TASKS) > 2500
