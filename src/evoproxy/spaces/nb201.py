"""NAS-Bench-201 search space: 6 edges x 5 ops = 15,625 cells, NASLib tuple encoding.

Arch strings are ``"(e01, e02, e03, e12, e13, e23)"`` with op ids 0=skip_connect 1=none 2=nor_conv_3x3
3=nor_conv_1x1 4=avg_pool_3x3 (NAS-Bench-201 cell strings ``|op~0|+|...|`` are accepted by :meth:`canonical`).

Validity: a cell is *degenerate* (invalid) when no path of non-``none`` edges joins the input node 0 to the output
node 3; its network output then does not depend on the input. 15,284 cells are valid and 341 degenerate
(:func:`is_connected`); :meth:`sample`, :meth:`mutate` and :meth:`neighbours` return valid cells only, while :meth:`enumerate` and :meth:`to_model` cover all 15,625 (the benchmark has values
for degenerate cells too).

Enumeration order: lexicographic over the 6-tuple (``itertools.product(range(5), repeat=6)``), i.e. (0,0,0,0,0,0),
(0,0,0,0,0,1), ... This is *not* the NAS-Bench-201 index order, which is a fixed shuffle recorded in the benchmark
file; join on the ``arch`` string (or ``nb201_index`` of the ingested accuracy table) to get the index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from evoproxy.encodings import NB201_EDGES, NB201_OPS
from evoproxy.spaces import register
from evoproxy.spaces.base import SearchSpace

NONE_ID = NB201_OPS.index("none")


def is_connected(ops: Sequence[int]) -> bool:
    """True when a path of non-``none`` edges leads from node 0 to node 3 (the cell is not degenerate)."""
    reach = {0}
    for (i, j), o in zip(NB201_EDGES, ops, strict=True):  # edges are listed in topological order of j
        if o != NONE_ID and i in reach:
            reach.add(j)
    return 3 in reach


@register("nb201")
class NB201Space(SearchSpace):
    """NAS-Bench-201 (Dong & Yang 2020) cell search space on the TinyNetwork skeleton."""

    encoding = "nb201"
    num_classes_default = 10

    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        try:
            ops = self.parse(arch)
        except ValueError:
            return False
        return is_connected(ops)

    def random_arch(self, rng: np.random.Generator) -> str:
        return str(tuple(int(v) for v in rng.integers(0, len(NB201_OPS), size=len(NB201_EDGES))))

    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        ops = list(self.parse(arch))
        out: list[str] = []
        for e in range(len(ops)):
            for o in range(len(NB201_OPS)):
                if o != ops[e]:
                    new = ops.copy()
                    new[e] = o
                    if is_connected(new):
                        out.append(str(tuple(new)))
        return out

    def size(self) -> int:
        return len(NB201_OPS) ** len(NB201_EDGES)

    def enumerate(self) -> Iterator[str]:
        for ops in itertools.product(range(len(NB201_OPS)), repeat=len(NB201_EDGES)):
            yield str(ops)

    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None):  # noqa: ANN201 - torch lazy
        from evoproxy.spaces.nb201_net import NB201Network

        return NB201Network(self.parse(arch), num_classes=num_classes or self.num_classes_default)
