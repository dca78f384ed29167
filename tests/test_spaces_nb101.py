"""NAS-Bench-101 space: spec validity and pruning, graph hash, sampling, network vs the release's params."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from evoproxy.encodings import ArchEncodingError
from evoproxy.spaces import get_space
from evoproxy.spaces.nb101_net import vertex_channels
from evoproxy.spaces.nb101_spec import CONV1X1, CONV3X3, MAXPOOL3X3, join, prune, spec_hash, split

IN, OUT = 0, 1


@pytest.fixture(scope="module")
def space():
    return get_space("nb101")


def arch(edges: list[tuple[int, int]], ops: list[int]) -> str:
    m = np.zeros((7, 7), dtype=int)
    for i, j in edges:
        m[i, j] = 1
    return str(join(m, ops))


CHAIN = arch([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)], [IN, CONV3X3, CONV1X1, MAXPOOL3X3, CONV3X3, CONV3X3, OUT])


def test_validity_rules(space) -> None:
    assert space.is_valid(CHAIN)
    # output unreachable
    assert not space.is_valid(arch([(0, 1), (1, 2)], [IN, CONV3X3, CONV3X3, CONV3X3, CONV3X3, CONV3X3, OUT]))
    # 11 edges on the pruned graph
    many = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (1, 6), (2, 6), (3, 6), (4, 6), (5, 6)]
    assert not space.is_valid(arch(many, [IN] + [CONV3X3] * 5 + [OUT]))
    # 10 edges before pruning but 9 after (vertex 5 is a dead end): valid, as the benchmark prunes first
    nine_after = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 6), (2, 6), (3, 6), (4, 6), (0, 6), (4, 5)]
    assert space.is_valid(arch(nine_after, [IN] + [CONV3X3] * 5 + [OUT]))
    # misplaced input/output ops
    assert not space.is_valid(arch([(0, 6)], [CONV3X3, CONV3X3, CONV3X3, CONV3X3, CONV3X3, CONV3X3, OUT]))
    assert not space.is_valid(arch([(0, 6)], [IN, CONV3X3, CONV3X3, OUT, CONV3X3, CONV3X3, OUT]))
    assert not space.is_valid("garbage")
    with pytest.raises(ArchEncodingError, match="not a valid member"):
        space.to_model(arch([(0, 1)], [IN] + [CONV3X3] * 5 + [OUT]))


def test_prune() -> None:
    m, ops = split(eval(arch([(0, 1), (1, 6), (0, 2), (3, 6)], [IN, CONV3X3, CONV1X1, MAXPOOL3X3, 4, 4, OUT])))
    pm, pops = prune(m, ops)
    assert pops == [IN, CONV3X3, OUT]  # 2 is a dead end, 3 unreachable from the input
    assert pm.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_hash_isomorphism_and_pruning(space) -> None:
    a = arch([(0, 1), (0, 2), (1, 3), (2, 3), (3, 6)], [IN, CONV3X3, CONV1X1, MAXPOOL3X3, 4, 4, OUT])
    b = arch([(0, 1), (0, 2), (1, 3), (2, 3), (3, 6)], [IN, CONV1X1, CONV3X3, MAXPOOL3X3, 4, 4, OUT])  # swap 1, 2
    c = arch([(0, 1), (0, 2), (1, 3), (2, 3), (3, 6), (0, 5)], [IN, CONV3X3, CONV1X1, MAXPOOL3X3, 4, 4, OUT])  # + dead end
    d = arch([(0, 1), (0, 2), (1, 3), (2, 3), (3, 6)], [IN, CONV3X3, CONV3X3, MAXPOOL3X3, 4, 4, OUT])
    assert space.hash(a) == space.hash(b) == space.hash(c) != space.hash(d)
    assert len(spec_hash(*space.pruned(a))) == 32


def test_vertex_channels_by_hand() -> None:
    m = np.zeros((5, 5), dtype=int)
    for i, j in [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)]:
        m[i, j] = 1
    assert vertex_channels(128, 128, m) == [128, 43, 43, 42, 128]
    m2 = np.zeros((4, 4), dtype=int)
    for i, j in [(0, 1), (1, 2), (2, 3)]:
        m2[i, j] = 1
    assert vertex_channels(128, 256, m2) == [128, 256, 256, 256]  # chain: interior vertex takes its successor's


def test_sample_neighbours_mutate(space) -> None:
    a = space.sample(30, seed=0)
    assert a == space.sample(30, seed=0) and a != space.sample(30, seed=1)
    assert all(space.is_valid(x) for x in a)
    assert len({space.hash(x) for x in a}) == 30
    nb = space.neighbours(CHAIN)
    assert len(nb) == len(set(nb)) > 0 and all(space.is_valid(n) for n in nb)
    base = np.array(eval(CHAIN))
    assert all(int((np.array(eval(n)) != base).sum()) == 1 for n in nb)
    m = space.mutate(CHAIN, seed=3)
    assert m in nb and m == space.mutate(CHAIN, seed=3)


def test_model_forward(space) -> None:
    torch.manual_seed(0)
    model = space.to_model(CHAIN, num_classes=7)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    only_io = space.to_model(arch([(0, 6)], [IN] + [CONV3X3] * 5 + [OUT]))
    assert only_io(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.integration
def test_params_equal_release(space, mirror_dir: Path) -> None:
    """Parameter counts equal the release's nb101 `params` (NASLib's op ids: 2=maxpool 3=conv1x1 4=conv3x3)."""
    records = json.loads((mirror_dir / "zc_nasbench101.json").read_text())["cifar10"]
    keys = sorted(records)
    rng = np.random.default_rng(0)
    for key in [keys[i] for i in rng.choice(len(keys), size=60, replace=False)]:
        assert space.is_valid(key), key
        got = sum(p.numel() for p in space.to_model(key).parameters()) / 1e6
        assert got == pytest.approx(records[key]["params"]["score"], abs=1e-6), key


def test_from_spec_pads_small_specs(space) -> None:
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"]
    a = space.from_spec(matrix, ops)
    assert space.is_valid(a)
    seven = arch([(0, 1), (0, 2), (1, 3), (2, 3), (3, 6)], [IN, CONV3X3, CONV1X1, MAXPOOL3X3, CONV3X3, CONV3X3, OUT])
    assert a == seven  # padded vertices 4, 5 are unconnected
    assert space.describe(a) == (
        "ops=['input', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'output'] matrix=[01100,00010,00010,00001,00000]"
    )
    n_params = sum(p.numel() for p in space.to_model(a).parameters())
    assert n_params == sum(p.numel() for p in space.to_model(seven).parameters())
    with pytest.raises(ValueError, match="does not fit"):
        space.from_spec([[0, 1], [0, 0]], ops)


@pytest.mark.integration
def test_synflow_equals_release_with_the_benchmark_init(space, mirror_dir: Path) -> None:
    """synflow is scale-sensitive: with the benchmark network's own init it reproduces the release's values (log
    scale) to a few hundredths; with PyTorch's default init it was 10-30 lower."""
    from evoproxy.proxies import compute

    records = json.loads((mirror_dir / "zc_nasbench101.json").read_text())["cifar10"]
    small = sorted(records, key=lambda k: records[k]["params"]["score"])[:3]  # the cheapest nets
    x = torch.randn(2, 3, 32, 32)
    for key in small:
        torch.manual_seed(0)
        got = compute(space.to_model(key), x, torch.tensor([0, 1]), ["synflow"])["synflow"]
        assert got == pytest.approx(records[key]["synflow"]["score"], abs=0.15), key
