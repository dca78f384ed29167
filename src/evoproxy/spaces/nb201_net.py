"""The NAS-Bench-201 network (``TinyNetwork`` with ``InferCell`` cells), as the benchmark and NASLib build it.

Skeleton (Dong & Yang 2020, ``xautodl/models/cell_infers/tiny_network.py``): stem Conv3x3(3->16) + BN; three
stages of N=5 cells at C = 16, 32, 64, separated by ResNet basic blocks with stride 2 (ReLUConvBN 3x3 stride 2,
ReLUConvBN 3x3, residual AvgPool2d(2) + Conv1x1); ``lastact`` BN + ReLU; global average pooling; linear classifier.
Cell: 4 nodes, node j = sum over i<j of op_(i,j)(node i); ops ``none`` (zero), ``skip_connect`` (identity),
``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU-Conv-BN), ``avg_pool_3x3`` (stride 1, padding 1, count_include_pad=False).

Convention: every BatchNorm has affine parameters and running statistics (the benchmark's defaults). With it the
parameter count in millions, ``sum(p.numel()) / 1e6``, equals the release's ``params`` of NAS-Bench-Suite-Zero
exactly (e.g. 1.531546 for all-``nor_conv_3x3``, 0.073306 for all-``skip_connect``; see tests/test_spaces_nb201.py).
``none`` edges are kept as zero ops so degenerate cells still build (the release has values for them).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from evoproxy.encodings import NB201_EDGES, NB201_OPS
from evoproxy.spaces.ops import Identity, ReLUConvBN, Zero


def nb201_op(name: str, c: int, affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """One stride-1 NB201 cell op on ``c`` channels."""
    if name == "none":
        return Zero(c, c, 1)
    if name == "skip_connect":
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0, 1, affine, track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1, 1, affine, track_running_stats)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"nb201: unknown op {name!r}; expected one of {NB201_OPS}")


class NB201Cell(nn.Module):
    """A NAS-Bench-201 cell from the NASLib 6-tuple (edge order (0,1) (0,2) (0,3) (1,2) (1,3) (2,3))."""

    def __init__(self, ops: Sequence[int], c: int, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.edges = nn.ModuleList(nb201_op(NB201_OPS[o], c, affine, track_running_stats) for o in ops)
        self.sources = [e for e in NB201_EDGES]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(op(nodes[i]) for op, (i, k) in zip(self.edges, self.sources, strict=True) if k == j))
        return nodes[3]


class ResNetBasicBlock(nn.Module):
    """NB201 reduction block: ReLUConvBN 3x3 (stride) -> ReLUConvBN 3x3, plus AvgPool2d(2) + Conv1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"invalid stride {stride}")
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, 1, affine, track_running_stats)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, 0, 1, affine, track_running_stats)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


class NB201Network(nn.Module):
    """NAS-Bench-201 TinyNetwork: C=16, N=5 cells per stage, ``num_classes`` logits."""

    def __init__(
        self,
        ops: Sequence[int],
        num_classes: int = 10,
        c: int = 16,
        n: int = 5,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, c, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c, affine=affine, track_running_stats=track_running_stats),
        )
        channels = [c] * n + [2 * c] + [2 * c] * n + [4 * c] + [4 * c] * n
        reduction = [False] * n + [True] + [False] * n + [True] + [False] * n
        cells: list[nn.Module] = []
        c_prev = c
        for c_cur, red in zip(channels, reduction, strict=True):
            if red:
                cells.append(ResNetBasicBlock(c_prev, c_cur, 2, affine, track_running_stats))
            else:
                cells.append(NB201Cell(ops, c_cur, affine, track_running_stats))
            c_prev = c_cur
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(
            nn.BatchNorm2d(c_prev, affine=affine, track_running_stats=track_running_stats), nn.ReLU(inplace=False)
        )
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before global pooling (used by proxies such as zen)."""
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.lastact(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.forward_before_global_avg_pool(x)).flatten(1)
        return self.classifier(out)
