"""The NAS-Bench-101 network from a model spec, after ``nasbench/lib/model_builder.py`` (Ying et al. 2019).

Skeleton: stem Conv3x3(3 -> 128)-BN-ReLU; 3 stacks of 3 cells; before stacks 2 and 3 a MaxPool2d(2, 2) and the
channel count doubles (128, 256, 512); global average pooling; linear classifier. All convolutions are bias-free and
followed by BatchNorm (eps 1e-5, TF momentum 0.997 -> torch momentum 0.003, affine) and ReLU.

Cell (pruned spec, vertices 0..V-1): the output channels are split among the vertices feeding the output
(:func:`vertex_channels`, the benchmark's ``compute_vertex_channels``); an interior vertex sums the (channel
truncated) outputs of its interior predecessors plus a 1x1 conv-bn-relu projection of the cell input when the input
feeds it, then applies its op; the cell output concatenates the interior vertices feeding it and adds a projection of
the input when input -> output is an edge (only the projection when no interior vertex feeds the output).
Parameters in millions, ``sum(p.numel()) / 1e6``: compare with the release's ``params`` (tests/test_spaces_nb101.py).

Initialisation is the benchmark network's own (NASBench-PyTorch / NASLib's ``Network._initialize_weights``, which the
NAS-Bench-Suite-Zero proxies were computed with): conv weights N(0, 2 / (k * k * out_channels)) (He, fan-out), BN
weight 1 and bias 0, classifier N(0, 0.01) with bias 0. Scale-sensitive proxies depend on it: with PyTorch's default
init, log synflow came out 10-30 below the release; with this one it matches to about 0.05
(tests/test_spaces_nb101.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from evoproxy.spaces.nb101_spec import CONV1X1, CONV3X3, INTERIOR_OPS, MAXPOOL3X3

BN_MOMENTUM = 1 - 0.997
BN_EPS = 1e-5


class ConvBnRelu(nn.Module):
    """Conv2d(bias=False, 'same' padding) -> BN -> ReLU (``conv_bn_relu`` of the benchmark)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=1, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of each vertex: output split evenly over the vertices feeding it, remainder to the first ones."""
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[n - 1] = c_in, c_out
    if n == 2:
        return ch
    in_degree = matrix[1:].sum(axis=0)
    interior = c_out // int(in_degree[n - 1])
    correction = c_out % int(in_degree[n - 1])
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            ch[v] = interior
            if correction:
                ch[v] += 1
                correction -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    ch[v] = max(ch[v], ch[dst])
        if ch[v] <= 0:
            raise ValueError(f"nb101: vertex {v} gets no channels (matrix {matrix.tolist()})")
    return ch


def _op(op: int, c: int) -> nn.Module:
    if op == CONV3X3:
        return ConvBnRelu(c, c, 3)
    if op == CONV1X1:
        return ConvBnRelu(c, c, 1)
    if op == MAXPOOL3X3:
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"nb101: op id {op} is not an interior op {INTERIOR_OPS}")


class NB101Cell(nn.Module):
    """One NAS-Bench-101 cell of a pruned spec."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[int], c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = np.asarray(matrix)
        n = self.n = len(self.matrix)
        self.ch = vertex_channels(c_in, c_out, self.matrix)
        self.ops = nn.ModuleDict({str(v): _op(ops[v], self.ch[v]) for v in range(1, n - 1)})
        self.proj = nn.ModuleDict(
            {str(v): ConvBnRelu(c_in, self.ch[v], 1) for v in range(1, n) if self.matrix[0, v]}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, ch = self.n, self.matrix, self.ch
        tensors = [x]
        for t in range(1, n - 1):
            add = [tensors[s][:, : ch[t]] for s in range(1, t) if m[s, t]]
            if m[0, t]:
                add.append(self.proj[str(t)](x))
            tensors.append(self.ops[str(t)](sum(add[1:], add[0])))
        outs = [tensors[s] for s in range(1, n - 1) if m[s, n - 1]]
        if not outs:
            return self.proj[str(n - 1)](x)
        out = torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]
        if m[0, n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """NAS-Bench-101 network: stem 128 ch, 3 stacks x 3 cells, max-pool downsampling with channel doubling."""

    def __init__(
        self,
        matrix: np.ndarray,
        ops: Sequence[int],
        num_classes: int = 10,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBnRelu(3, stem_channels, 3)]
        c_in = c_out = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                c_out *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(matrix, ops, c_in, c_out))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_out, num_classes)
        self._initialize_weights()

    def _initialize_weights(self) -> None:
        """The benchmark's initialisation (see the module docstring); draws from torch's global generator."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                    m.weight.normal_(0.0, math.sqrt(2.0 / fan_out))
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, nn.BatchNorm2d):
                    m.weight.fill_(1.0)
                    m.bias.zero_()
                elif isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, 0.01)
                    m.bias.zero_()

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before global pooling."""
        return self.layers(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.layers(x).mean(dim=(2, 3)))
