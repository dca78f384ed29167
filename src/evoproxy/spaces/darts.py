"""DARTS / NAS-Bench-301 search space: a normal and a reduction cell of 4 intermediate nodes x 2 edges.

Arch strings are NASLib's compact form ``[[(input, op) x 8 normal], [(input, op) x 8 reduce]]``: edges 2k and 2k+1
feed intermediate node k (k = 0..3) from inputs in 0..k+1 (0 = output of the cell two back, 1 = previous cell,
2.. = earlier intermediate nodes); op ids index :data:`evoproxy.encodings.DARTS_OPS` (0 max_pool_3x3, 1 avg_pool_3x3,
2 skip_connect, 3 sep_conv_3x3, 4 sep_conv_5x5, 5 dil_conv_3x3, 6 dil_conv_5x5).

Well-formed (``is_valid``): the encoding parses and the two edges of every node come from *different* inputs, as in
every DARTS genotype and the NB301 data (NASLib's graph would silently merge two edges from one input). Sampling
follows NASLib (two distinct inputs per node, uniform ops); neighbours change one edge's op or its input. The space
(about 10^18 cells) is not enumerated: :meth:`size` is ``None``. The network is :mod:`.darts_net` (NASLib's NB301
evaluation network, C = 32, 8 cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evoproxy.encodings import DARTS_OPS
from evoproxy.spaces import register
from evoproxy.spaces.base import SearchSpace

Cells = list[list[tuple[int, int]]]


def _fmt(cells: Sequence[Sequence[Sequence[int]]]) -> str:
    return str([[(int(i), int(o)) for i, o in cell] for cell in cells])


def distinct_inputs(cells: Sequence[Sequence[Sequence[int]]]) -> bool:
    """True when the two edges of every intermediate node come from different inputs."""
    return all(cell[2 * k][0] != cell[2 * k + 1][0] for cell in cells for k in range(4))


@register("nb301")
class DartsSpace(SearchSpace):
    """DARTS cell space as benchmarked by NAS-Bench-301 (alias ``darts``)."""

    encoding = "nb301"
    num_classes_default = 10

    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        try:
            cells = self.parse(arch)
        except ValueError:
            return False
        return distinct_inputs(cells)

    def from_genotype(self, genotype: Any) -> str:
        """Canonical arch of a DARTS ``Genotype`` (or any object / dict with ``normal`` and ``reduce`` lists of
        ``(op_name, input)`` pairs, the order of the DARTS code), e.g. ``genotypes.DARTS_V2``."""
        cells = []
        for part in ("normal", "reduce"):
            pairs = genotype[part] if isinstance(genotype, dict) else getattr(genotype, part)
            try:
                cells.append([(int(i), DARTS_OPS.index(op)) for op, i in pairs])
            except ValueError:
                raise ValueError(f"darts: {part} cell {pairs!r}: ops must be in {DARTS_OPS}") from None
        return self.canonical(_fmt(cells))

    def describe(self, arch: str | Sequence[Any]) -> str:
        """DARTS genotype notation: ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)``."""
        normal, reduce = self.parse(arch)
        n = [(DARTS_OPS[o], i) for i, o in normal]
        r = [(DARTS_OPS[o], i) for i, o in reduce]
        return f"Genotype(normal={n}, normal_concat=[2, 3, 4, 5], reduce={r}, reduce_concat=[2, 3, 4, 5])"

    def random_arch(self, rng: np.random.Generator) -> str:
        cells: Cells = [[], []]
        for k in range(4):
            for cell in cells:
                inputs = rng.choice(k + 2, size=2, replace=False)
                ops = rng.integers(0, len(DARTS_OPS), size=2)
                cell.extend([(int(inputs[0]), int(ops[0])), (int(inputs[1]), int(ops[1]))])
        return _fmt(cells)

    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        """Archs differing in one edge: another op (6 choices) or another input not used by the node's other edge."""
        cells = [[list(p) for p in cell] for cell in self.parse(arch)]
        out: list[str] = []
        for c in range(2):
            for e in range(8):
                k, (inp, op) = e // 2, cells[c][e]
                other = cells[c][e ^ 1][0]
                for new_op in range(len(DARTS_OPS)):
                    if new_op != op:
                        cells[c][e][1] = new_op
                        out.append(_fmt(cells))
                cells[c][e][1] = op
                for new_in in range(k + 2):
                    if new_in not in (inp, other):
                        cells[c][e][0] = new_in
                        out.append(_fmt(cells))
                cells[c][e][0] = inp
        return [a for a in out if self.is_valid(a)]

    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None):  # noqa: ANN201 - torch lazy
        from evoproxy.spaces.darts_net import DartsNetwork

        normal, reduce = self.parse(self._require_valid(arch))
        return DartsNetwork(normal, reduce, num_classes=num_classes or self.num_classes_default)
