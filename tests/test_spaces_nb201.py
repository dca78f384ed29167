"""NAS-Bench-201 space: registry contract, validity, sampling/mutation, and the network vs the release's params."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from evoproxy.encodings import ArchEncodingError, nb201_to_string
from evoproxy.spaces import SPACES, get_space
from evoproxy.spaces.nb201 import index_order, is_connected


@pytest.fixture(scope="module")
def space():
    return get_space("nb201")


def n_params(model: torch.nn.Module) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def test_registry(space) -> None:
    assert "nb201" in SPACES
    assert space.name == "nb201" and space.num_classes_default == 10
    assert get_space("nasbench201").name == "nb201"
    with pytest.raises(ValueError, match="unknown search space 'nb999'"):
        get_space("nb999")


def test_canonical_accepts_cell_strings(space) -> None:
    arch = (2, 1, 0, 3, 4, 2)
    assert space.canonical(nb201_to_string(arch)) == "(2, 1, 0, 3, 4, 2)"
    assert space.canonical("(2,1,0,3,4,2)") == "(2, 1, 0, 3, 4, 2)"
    with pytest.raises(ArchEncodingError):
        space.canonical("(2, 1, 0, 3, 4, 9)")


def test_validity_by_hand() -> None:
    # none = 1; only edge 0->3 is non-none: connected.
    assert is_connected((1, 1, 0, 1, 1, 1))
    # path 0->1->3 via skip and conv
    assert is_connected((0, 1, 1, 1, 2, 1))
    # 0->1 present but 1 reaches nothing; 2 unreachable
    assert not is_connected((0, 1, 1, 1, 1, 4))
    assert not is_connected((1, 1, 1, 1, 1, 1))
    # 1->2->3 exists but node 1 not reachable from input
    assert not is_connected((1, 1, 1, 0, 1, 0))


def test_enumerate_and_counts(space) -> None:
    archs = list(space.enumerate())
    assert space.size() == len(archs) == 15625 == len(set(archs))
    assert archs[0] == "(0, 0, 0, 0, 0, 0)" and archs[1] == "(0, 0, 0, 0, 0, 1)"
    valid = sum(space.is_valid(a) for a in archs)
    # independent count: brute force reachability with an adjacency matrix power
    brute = 0
    for a in archs:
        ops = [int(v) for v in a.strip("()").split(",")]
        adj = np.zeros((4, 4), dtype=int)
        for (i, j), o in zip([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)], ops, strict=True):
            adj[i, j] = o != 1
        reach = adj + adj @ adj + adj @ adj @ adj
        brute += reach[0, 3] > 0
    assert valid == brute == space.num_valid == 15284
    assert not space.is_valid("not an arch")


def test_sample_distinct_valid_deterministic(space) -> None:
    a = space.sample(200, seed=3)
    assert a == space.sample(200, seed=3)
    assert a != space.sample(200, seed=4)
    assert len(set(a)) == 200 and all(space.is_valid(x) for x in a)
    assert all(x == space.canonical(x) for x in a)
    with pytest.raises(ValueError, match="has 15284 valid"):
        space.sample(15285, seed=0)


def test_neighbours_and_mutate(space) -> None:
    arch = "(2, 2, 2, 2, 2, 2)"
    nb = space.neighbours(arch)
    assert len(nb) == 24 == len(set(nb))  # 6 edges x 4 other ops, all connected here
    for n in nb:
        diff = sum(x != y for x, y in zip(space.parse(n), space.parse(arch), strict=True))
        assert diff == 1
    # a cell whose only path is edge 0->3: removing it is not a valid neighbour
    lone = "(1, 1, 2, 1, 1, 1)"
    assert "(1, 1, 1, 1, 1, 1)" not in space.neighbours(lone)
    assert all(space.is_valid(n) for n in space.neighbours(lone))
    m = space.mutate(arch, seed=5)
    assert m == space.mutate(arch, seed=5) and m != arch and m in nb
    for seed in range(20):  # uniform over neighbours(), also when the memoised options answer, whatever the spelling
        want = nb[int(np.random.default_rng(seed).integers(len(nb)))]
        assert space.mutate(arch, seed=seed) == want == space.mutate("(2,2,2,2,2,2)", seed=seed)


def test_model_forward_shapes(space) -> None:
    torch.manual_seed(0)
    model = space.to_model("(2, 3, 4, 0, 1, 2)", num_classes=100)
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 100)
    assert space.to_model("(2, 3, 4, 0, 1, 2)")(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    # degenerate cell still builds (the benchmark has values for those); output independent of the input
    deg = space.to_model("(1, 1, 1, 1, 1, 1)").eval()
    x = torch.randn(3, 3, 32, 32)
    assert torch.allclose(deg(x), deg(x * 5 + 1), atol=1e-6)


def test_params_by_hand(space) -> None:
    # all skip: stem 432+32, two reduction blocks 14,464 and 57,600, lastact 128, classifier 650
    assert n_params(space.to_model("(0, 0, 0, 0, 0, 0)")) == pytest.approx(0.073306, abs=1e-12)
    # all conv3x3 adds 30 convs (+ affine BN) per stage
    extra = sum(30 * (9 * c * c + 2 * c) for c in (16, 32, 64))
    assert n_params(space.to_model("(2, 2, 2, 2, 2, 2)")) == pytest.approx((73306 + extra) / 1e6, abs=1e-12)


@pytest.mark.integration
def test_params_equal_release(space, mirror_dir: Path) -> None:
    """Parameter counts in millions equal the release's `params` (NAS-Bench-Suite-Zero, nb201/cifar10) exactly."""
    records = json.loads((mirror_dir / "zc_nasbench201.json").read_text())["cifar10"]
    keys = sorted(records)
    rng = np.random.default_rng(0)
    sample = [keys[i] for i in rng.choice(len(keys), size=60, replace=False)]
    for arch in sample:
        got = n_params(space.to_model(arch, num_classes=10))
        assert got == pytest.approx(records[arch]["params"]["score"], abs=1e-6), arch


@pytest.mark.integration
def test_index_order(space, mirror_dir: Path, tmp_path: Path) -> None:
    csv = mirror_dir / "nb201_accuracy_15625.csv"
    order = list(space.enumerate(index_file=csv))
    assert len(order) == 15625 and set(order) == set(space.enumerate())
    assert order[0] == "(4, 3, 3, 0, 0, 0)"  # NB201 index 0: |avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+...
    bad = tmp_path / "bad.csv"
    bad.write_text("nb201_index,arch\n0,\"(0, 0, 0, 0, 0, 0)\"\n")
    with pytest.raises(ValueError, match="nb201_index must be exactly"):
        index_order(bad)


def test_describe_roundtrip(space) -> None:
    for a in space.sample(20, seed=9):
        text = space.describe(a)
        assert text.startswith("|") and space.canonical(text) == a
