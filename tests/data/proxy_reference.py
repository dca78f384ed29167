"""Reference proxy values for the refactoring guard test (tests/test_proxies_reference.py).

The cases are small seeded networks (NB201 cells from ``get_space("nb201").to_model``, the toy conv net of
tests/test_extract.py, a dense-output conv net with an MSE loss) on seeded random batches, computed with several
``seed`` values and ``split_data`` 1 and 2. ``proxy_reference.json`` holds the values of the implementation at the
time it was generated, one set per CPU kernel family (``torch.backends.cpu.get_cpu_capability()``: AVX512, AVX2,
...): float32 convolutions are summed in another order by each family's kernels, and the gradient proxies amplify
that (a ReLU input near 0 changes sign) to a few percent on the deepest case, while one family reproduces its own
values to the last bits. The test recomputes every case and compares with the set of the machine's family.

Record the values of this machine's family (kept beside the others), or, when a proxy's definition changes on purpose,
regenerate with ``--reset`` (drops every other family's set; say so in the commit):

    .venv/bin/python tests/data/proxy_reference.py [--reset]
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


def cpu_family() -> str:
    """The CPU kernel family torch dispatches to here (the key of a value set)."""
    return torch.backends.cpu.get_cpu_capability()


def main() -> int:
    old = json.loads(FIXTURE.read_text()) if FIXTURE.exists() and "--reset" not in sys.argv else {}
    out: dict[str, Any] = {"torch": torch.__version__, "command": "python tests/data/proxy_reference.py",
                           "cases_by_cpu": dict(old.get("cases_by_cpu", {}))}
    torch.set_num_threads(1)
    cases: dict[str, dict[str, float]] = {}
    for case in CASES:
        for seed, split in runs(case):
            key = f"{case['id']}|seed={seed}|split={split}"
            cases[key] = compute_case(case, seed, split)
            print(key, cases[key], flush=True)
    out["cases_by_cpu"][cpu_family()] = cases
    tmp = FIXTURE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    tmp.replace(FIXTURE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
