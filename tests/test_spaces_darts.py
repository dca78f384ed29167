"""DARTS / NB301 space: well-formedness, sampling, neighbourhood, network vs the release's params."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from evoproxy.encodings import ArchEncodingError
from evoproxy.spaces import get_space

# DARTS-V2 genotype (Liu et al. 2019) in the compact (input, op) form
DARTS_V2 = str(
    [
        [(0, 3), (1, 3), (0, 3), (1, 3), (1, 3), (0, 2), (0, 2), (2, 5)],
        [(0, 0), (1, 0), (2, 2), (1, 0), (0, 0), (2, 2), (2, 2), (1, 0)],
    ]
)


@pytest.fixture(scope="module")
def space():
    return get_space("darts")


def test_registry_alias(space) -> None:
    assert space.name == "nb301" and get_space("nb301").name == "nb301"
    assert space.canonical(DARTS_V2.replace(" ", "")) == DARTS_V2


def test_wellformed(space) -> None:
    assert space.is_valid(DARTS_V2)
    cells = ast.literal_eval(DARTS_V2)
    cells[0][1] = (0, 3)  # both edges of node 0 from input 0
    assert not space.is_valid(str(cells))
    cells = ast.literal_eval(DARTS_V2)
    cells[1][2] = (3, 1)  # node 1 may only read inputs 0..2
    assert not space.is_valid(str(cells))
    assert not space.is_valid("[[(0, 1)], []]")
    with pytest.raises(ArchEncodingError):
        space.to_model(str([[(0, 3), (0, 3)] * 4, [(0, 3), (1, 3)] * 4]))


def test_sample_and_neighbours(space) -> None:
    a = space.sample(50, seed=0)
    assert a == space.sample(50, seed=0) and a != space.sample(50, seed=1)
    assert len(set(a)) == 50 and all(space.is_valid(x) and space.canonical(x) == x for x in a)
    nb = space.neighbours(DARTS_V2)
    # per cell: 8 edges x 6 other ops + inputs (node k: k alternatives per edge) -> 2 x (48 + 12)
    assert len(nb) == len(set(nb)) == 120
    base = ast.literal_eval(DARTS_V2)
    for n in nb:
        cells = ast.literal_eval(n)
        diffs = sum(cells[c][e] != base[c][e] for c in range(2) for e in range(8))
        assert diffs == 1 and space.is_valid(n)
    m = space.mutate(DARTS_V2, seed=2)
    assert m in nb and m == space.mutate(DARTS_V2, seed=2)
    assert space.size() is None
    with pytest.raises(ValueError, match="not enumerable"):
        next(space.enumerate())


def test_forward(space) -> None:
    torch.manual_seed(0)
    model = space.to_model(DARTS_V2, num_classes=100)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    assert model.forward_before_global_avg_pool(torch.randn(1, 3, 32, 32)).shape == (1, 512, 8, 8)


@pytest.mark.integration
def test_params_equal_release(space, mirror_dir: Path) -> None:
    """Parameter counts equal the release's nb301 `params` (NASLib's NB301 network: C=32, 8 cells)."""
    records = json.loads((mirror_dir / "zc_nasbench301.json").read_text())["cifar10"]
    keys = sorted(records)
    rng = np.random.default_rng(0)
    for key in [keys[i] for i in rng.choice(len(keys), size=50, replace=False)]:
        got = sum(p.numel() for p in space.to_model(key).parameters()) / 1e6
        assert got == pytest.approx(records[key]["params"]["score"], abs=1e-6), key


def test_from_genotype_and_describe(space) -> None:
    from collections import namedtuple

    genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
    v2 = genotype(
        normal=[
            ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2),
        ],
        normal_concat=[2, 3, 4, 5],
        reduce=[
            ("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1),
        ],
        reduce_concat=[2, 3, 4, 5],
    )
    assert space.from_genotype(v2) == DARTS_V2
    assert space.from_genotype({"normal": v2.normal, "reduce": v2.reduce}) == DARTS_V2
    text = space.describe(DARTS_V2)
    assert text.startswith("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)")
    with pytest.raises(ValueError, match="ops must be in"):
        space.from_genotype({"normal": [("conv_7x7", 0)] * 8, "reduce": v2.reduce})
