"""The DARTS network (NAS-Bench-301 evaluation skeleton) as NASLib builds it for the zero-cost benchmark.

NASLib ``naslib/search_spaces/nasbench301/graph.py`` (``NasBench301SearchSpace``) is the DARTS ``NetworkCIFAR`` with
C = 32, 8 cells (normal, normal, reduce, normal, normal, reduce, normal, normal; stage channels 32 / 64 / 128) and
these details, all reproduced here:

- stem Conv3x3(3 -> 96) + BN (affine); cell preprocessing ReLU-Conv1x1-BN (affine), or FactorizedReduce (affine)
  for the input two cells back when the previous cell reduced;
- cell ops: ``sep_conv_kxk`` (two ReLU-dwConv-pwConv-BN blocks) and ``dil_conv_kxk`` with BN *without* affine
  parameters; ``max_pool_3x3`` / ``avg_pool_3x3`` followed by a BN without affine parameters; ``skip_connect`` is the
  identity, or FactorizedReduce (BN without affine) on stride-2 edges of reduction cells;
- intermediate node = sum of its two edges; cell output = concatenation of the 4 intermediate nodes;
- global average pooling and Linear(512, classes). The auxiliary head is not built (it is not part of the forward
  pass the proxies see, and NASLib leaves it out of parameter counts).

Parameter count in millions, ``sum(p.numel()) / 1e6``, compared with the release's ``params`` in
tests/test_spaces_darts.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from evoproxy.encodings import DARTS_OPS
from evoproxy.spaces.ops import FactorizedReduce, Identity, ReLUConvBN


class SepConv(nn.Module):
    """DARTS separable conv: (ReLU, depthwise kxk, pointwise 1x1, BN) twice, the first with the stride."""

    def __init__(self, c: int, k: int, stride: int, affine: bool = False) -> None:
        super().__init__()
        p = k // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, k, stride=stride, padding=p, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, k, stride=1, padding=p, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """DARTS dilated conv: ReLU, depthwise kxk with dilation 2, pointwise 1x1, BN."""

    def __init__(self, c: int, k: int, stride: int, affine: bool = False) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, k, stride=stride, padding=k - 1, dilation=2, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def darts_op(name: str, c: int, stride: int) -> nn.Module:
    """One DARTS cell op on ``c`` channels as NASLib's NB301 space defines it."""
    if name == "max_pool_3x3":
        return nn.Sequential(nn.MaxPool2d(3, stride=stride, padding=1), nn.BatchNorm2d(c, affine=False))
    if name == "avg_pool_3x3":
        return nn.Sequential(
            nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False), nn.BatchNorm2d(c, affine=False)
        )
    if name == "skip_connect":
        return Identity() if stride == 1 else FactorizedReduce(c, c, affine=False)
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        return SepConv(c, int(name[-1]), stride)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        return DilConv(c, int(name[-1]), stride)
    raise ValueError(f"darts: unknown op {name!r}; expected one of {DARTS_OPS}")


class DartsCell(nn.Module):
    """A DARTS cell from 8 (input, op id) pairs; inputs 0 / 1 are the two preprocessed cell inputs."""

    def __init__(
        self,
        pairs: Sequence[Sequence[int]],
        c_pp: int,
        c_p: int,
        c: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self.inputs = [int(i) for i, _ in pairs]
        self.ops = nn.ModuleList(
            darts_op(DARTS_OPS[o], c, 2 if reduction and i < 2 else 1) for i, o in pairs
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for k in range(4):
            a, b = 2 * k, 2 * k + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class DartsNetwork(nn.Module):
    """NB301 / DARTS evaluation network: stem 3C, ``layers`` cells with reductions at 1/3 and 2/3 depth."""

    def __init__(
        self,
        normal: Sequence[Sequence[int]],
        reduce: Sequence[Sequence[int]],
        num_classes: int = 10,
        c: int = 32,
        layers: int = 8,
        stem_multiplier: int = 3,
    ) -> None:
        super().__init__()
        c_cur = stem_multiplier * c
        self.stem = nn.Sequential(nn.Conv2d(3, c_cur, 3, padding=1, bias=False), nn.BatchNorm2d(c_cur))
        c_pp, c_p, c_cur = c_cur, c_cur, c
        cells: list[DartsCell] = []
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_cur *= 2
            cells.append(DartsCell(reduce if reduction else normal, c_pp, c_p, c_cur, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, 4 * c_cur
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before global pooling."""
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return s1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.forward_before_global_avg_pool(x)).flatten(1))
