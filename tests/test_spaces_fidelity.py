"""Fidelity of the three benchmark networks: params and FLOPs equal the release (NAS-Bench-Suite-Zero, cifar10).

FLOPs depend on every layer's position and resolution (BN, ReLU and pooling included), so an exact match on top of
the parameter match checks the forward structure, not only the weights. Counted by the public proxy API.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from evoproxy.proxies import compute
from evoproxy.spaces import get_space

FILES = {"nb201": "zc_nasbench201.json", "nb101": "zc_nasbench101.json", "nb301": "zc_nasbench301.json"}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("space_name", sorted(FILES))
def test_params_and_flops_equal_release(space_name: str, mirror_dir: Path) -> None:
    records = json.loads((mirror_dir / FILES[space_name]).read_text())["cifar10"]
    keys = sorted(records)
    space = get_space(space_name)
    rng = np.random.default_rng(1)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for key in [keys[i] for i in rng.choice(len(keys), size=5, replace=False)]:
        got = compute(space.to_model(key), x, None, names=["params", "flops"])
        assert got["params"] == pytest.approx(records[key]["params"]["score"], abs=1e-6), key
        assert got["flops"] == pytest.approx(records[key]["flops"]["score"], rel=1e-9), key
