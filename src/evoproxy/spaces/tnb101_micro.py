"""TransNAS-Bench-101 micro (cell) space: 4,096 cells of 6 edges x 4 ops on the fixed skeleton ``64-41414``.

Arch strings are NASLib's op-index 6-tuples ``(a, b, c, d, e, f)`` with op ids 0=none 1=skip_connect 2=conv1x1
3=conv3x3, which NASLib turns into the benchmark's arch string ``64-41414-a_bc_def``
(``convert_op_indices_micro_to_str``): node1 = a(node0), node2 = b(node0) + c(node1), node3 = d(node0) + e(node1) +
f(node2). The tuple positions are therefore the edges (0,1), (0,2), (1,2), (0,3), (1,3), (2,3) -- *not* the NB201
edge order; with this reading the network's parameter count equals the release's on every mirror arch.

Validity: a cell is degenerate (invalid) when no path of non-none edges joins node 0 to node 3, so its output does
not depend on the input; 3,927 of the 4,096 cells are valid. :meth:`sample`, :meth:`mutate` and :meth:`neighbours`
return valid cells; :meth:`enumerate` (lexicographic, ``itertools.product(range(4), repeat=6)``) and the network
cover all 4,096 (the benchmark trained every cell, and the release has values for degenerate ones).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from evoproxy.encodings import TNB_MICRO_OPS, ArchEncodingError
from evoproxy.spaces import cell, register
from evoproxy.spaces.tnb101 import TNB101Space

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""The (from, to) node pair of each tuple position (the order of the TNB cell string ``a_bc_def``)."""

NONE_ID = TNB_MICRO_OPS.index("none")


def is_connected(ops: Sequence[int]) -> bool:
    """True when a path of non-none edges leads from node 0 to node 3."""
    return cell.is_connected(ops, EDGES, NONE_ID)


@register("tnb101_micro")
class TNB101MicroSpace(cell.EdgeOpCell, TNB101Space):
    """TransNAS-Bench-101 micro: one cell type repeated in 5 layers x 2 blocks (channels 64 -> 512)."""

    encoding = "tnb101_micro"
    num_valid = 3927
    cell_edges = EDGES
    cell_ops = TNB_MICRO_OPS

    def net_code(self, arch: str | Sequence[Any]) -> str:
        a, b, c, d, e, f = self.parse(arch)
        return f"64-41414-{a}_{b}{c}_{d}{e}{f}"

    def from_net_code(self, code: str) -> str:
        """Canonical arch of a TransNAS-Bench-101 micro arch string, e.g. ``64-41414-1_02_333`` -> (1, 0, 2, 3, 3, 3)."""
        parts = code.strip().split("-")
        cells = parts[2].split("_") if len(parts) == 3 else []
        digits = "".join(cells)
        if parts[:2] != ["64", "41414"] or [len(c) for c in cells] != [1, 2, 3] or not digits.isdigit():
            raise ArchEncodingError(f"tnb101_micro: {code!r} is not a micro arch string '64-41414-a_bc_def'")
        return self.canonical(tuple(int(c) for c in digits))

    def size(self) -> int:
        return len(TNB_MICRO_OPS) ** len(EDGES)

    def enumerate(self) -> Iterator[str]:
        """All 4,096 cells in lexicographic order."""
        for ops in itertools.product(range(len(TNB_MICRO_OPS)), repeat=len(EDGES)):
            yield str(ops)
