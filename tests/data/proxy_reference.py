"""Reference proxy values for the refactoring guard test (tests/test_proxies_reference.py).

The cases are small seeded networks (NB201 cells from ``get_space("nb201").to_model``, the toy conv net of
tests/test_extract.py, a dense-output conv net with an MSE loss) on seeded random batches, computed with several
``seed`` values and ``split_data`` 1 and 2. ``proxy_reference.json`` holds the values of the implementation at the
time it was generated; the test recomputes every case and compares.

Regenerate (only when a proxy's definition changes on purpose, and say so in the commit):

    .venv/bin/python tests/data/proxy_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "proxy_reference.json"

ALL = ["epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain", "snip",
       "synflow", "zen"]
DENSE = [p for p in ALL if p not in ("epe_nas", "zen")]  # no class labels, no global average pooling

# (case id, network, batch shape (N, H), batch seed, proxies, compute seeds, split_data values, slow)
CASES: list[dict[str, Any]] = [
    {"id": "nb201_conv_mix", "net": ("nb201", "(2, 3, 4, 0, 2, 1)", 0), "batch": (16, 16, 11), "names": ALL,
     "seeds": (0, 1, 7), "splits": (1, 2)},
    {"id": "nb201_with_none", "net": ("nb201", "(1, 2, 0, 3, 1, 4)", 1), "batch": (16, 16, 12), "names": ALL,
     "seeds": (0, 3), "splits": (1, 2)},
    {"id": "nb201_all_conv3", "net": ("nb201", "(2, 2, 2, 2, 2, 2)", 2), "batch": (8, 16, 13), "names": ALL,
     "seeds": (0,), "splits": (1, 2)},
    {"id": "toy_8_2", "net": ("toy", "(8, 2)", 0), "batch": (8, 8, 0), "names": ALL, "seeds": (0, 1, 5),
     "splits": (1, 2)},
    {"id": "toy_4_1", "net": ("toy", "(4, 1)", 3), "batch": (8, 8, 1), "names": ALL, "seeds": (2,), "splits": (1, 2)},
    {"id": "dense_mse", "net": ("dense", "", 4), "batch": (8, 8, 2), "names": DENSE, "seeds": (0,),
     "splits": (1, 2), "loss": "mse"},
    # the benchmark's setting (batch 64 at 32x32): slow, but it exercises the kernels the speed work changes
    {"id": "nb201_bench", "net": ("nb201", "(3, 2, 4, 2, 0, 3)", 5), "batch": (64, 32, 14), "names": ALL,
     "seeds": (0,), "splits": (1, 2), "slow": True},
]


def toy_net(width: int, depth: int, num_classes: int = 10) -> nn.Module:
    """ToySpace.to_model of tests/test_extract.py: conv-BN-ReLU stack, global pooling, linear."""
    layers: list[nn.Module] = []
    c = 3
    for _ in range(depth):
        layers += [nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        c = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))


def dense_net() -> nn.Module:
    """A tiny encoder-decoder returning a dense (N, 3, H, W) tensor (like TNB's autoencoder task)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 3, 3, padding=1),
    )


def build(case: dict) -> tuple[nn.Module, torch.Tensor, torch.Tensor, Any]:
    """The case's network (seeded init), batch and loss function."""
    kind, arch, init_seed = case["net"]
    torch.manual_seed(init_seed)
    if kind == "nb201":
        from evoproxy.spaces import get_space

        net = get_space("nb201").to_model(arch, num_classes=10)
    elif kind == "toy":
        w, d = (int(v) for v in arch.strip("()").split(","))
        net = toy_net(w, d)
    else:
        net = dense_net()
    n, hw, batch_seed = case["batch"]
    g = torch.Generator().manual_seed(batch_seed)
    x = torch.randn(n, 3, hw, hw, generator=g)
    if case.get("loss") == "mse":
        y = torch.randn(n, 3, hw, hw, generator=g)
        return net, x, y, F.mse_loss
    return net, x, torch.randint(0, 10, (n,), generator=g), None


def runs(case: dict) -> list[tuple[int, int]]:
    return [(s, sp) for s in case["seeds"] for sp in case["splits"]]


def compute_case(case: dict, seed: int, split: int) -> dict[str, float]:
    from evoproxy.proxies import compute

    net, x, y, loss_fn = build(case)
    return compute(net, x, y, names=case["names"], loss_fn=loss_fn, split_data=split, seed=seed)


def main() -> int:
    out: dict[str, Any] = {"torch": torch.__version__, "command": "python tests/data/proxy_reference.py",
                           "cases": {}}
    torch.set_num_threads(1)
    for case in CASES:
        for seed, split in runs(case):
            key = f"{case['id']}|seed={seed}|split={split}"
            out["cases"][key] = compute_case(case, seed, split)
            print(key, out["cases"][key], flush=True)
    tmp = FIXTURE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    tmp.replace(FIXTURE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
