"""Cells with one op per edge of a small DAG (NAS-Bench-201, TransNAS-Bench-101 micro).

An arch is a tuple of op ids, one per edge; it is valid when a path of non-``none`` edges leads from the input node
0 to the output node (otherwise the cell is degenerate). Sampling draws every edge's op uniformly; the neighbourhood
changes one edge's op. :class:`EdgeOpCell` gives a space these from its edge list and op names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def is_connected(ops: Sequence[int], edges: Sequence[tuple[int, int]], none_id: int, output: int = 3) -> bool:
    """True when a path of non-``none`` edges leads from node 0 to ``output``. Every edge ``(i, j)`` must come after
    all edges into ``i`` in ``edges``."""
    reach = {0}
    for (i, j), o in zip(edges, ops, strict=True):
        if o != none_id and i in reach:
            reach.add(j)
    return output in reach


class EdgeOpCell:
    """Mixin for a :class:`~evoproxy.spaces.base.SearchSpace` whose arch is one op per edge: set ``cell_edges`` and
    ``cell_ops`` (op names, one of them ``"none"``); it uses the space's ``parse``. List it before the space's base class."""

    cell_edges: tuple[tuple[int, int], ...] = ()
    cell_ops: tuple[str, ...] = ()

    def connected(self, ops: Sequence[int]) -> bool:
        return is_connected(ops, self.cell_edges, self.cell_ops.index("none"))

    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        try:
            ops = self.parse(arch)
        except ValueError:
            return False
        return self.connected(ops)

    def random_arch(self, rng: np.random.Generator) -> str:
        return str(tuple(int(v) for v in rng.integers(0, len(self.cell_ops), size=len(self.cell_edges))))

    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        """Valid cells with one edge's op changed (degenerate cells left out), edge by edge, op by op."""
        ops = list(self.parse(arch))
        out: list[str] = []
        for e in range(len(ops)):
            for o in range(len(self.cell_ops)):
                if o != ops[e]:
                    new = ops.copy()
                    new[e] = o
                    if self.connected(new):
                        out.append(str(tuple(new)))
        return out
