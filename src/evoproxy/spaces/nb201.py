"""NAS-Bench-201 search space: 6 edges x 5 ops = 15,625 cells, NASLib tuple encoding.

Arch strings are ``"(e01, e02, e03, e12, e13, e23)"`` with op ids 0=skip_connect 1=none 2=nor_conv_3x3
3=nor_conv_1x1 4=avg_pool_3x3 (NAS-Bench-201 cell strings ``|op~0|+|...|`` are accepted by :meth:`canonical`).

Validity: a cell is *degenerate* (invalid) when no path of non-``none`` edges joins the input node 0 to the output
node 3; its network output then does not depend on the input. 15,284 cells are valid and 341 degenerate
(:func:`is_connected`); :meth:`sample`, :meth:`mutate` and :meth:`neighbours` return valid cells only, while :meth:`enumerate` and :meth:`to_model` cover all 15,625 (the benchmark has values
for degenerate cells too).

Enumeration order: lexicographic over the 6-tuple (``itertools.product(range(5), repeat=6)``), i.e. (0,0,0,0,0,0),
(0,0,0,0,0,1), ... The NAS-Bench-201 index order is a fixed shuffle that only the benchmark file records:
:func:`index_order` reads it from a table with ``nb201_index`` and ``arch`` columns (the mirror's
``nb201_accuracy_15625.csv`` or the ingested ``results/data/nb201_accuracy.parquet``), and
``enumerate(index_file=...)`` yields the archs in that order.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from evoproxy.encodings import NB201_EDGES, NB201_OPS, canonical_arch, nb201_to_string
from evoproxy.spaces import cell, register
from evoproxy.spaces.base import SearchSpace

NONE_ID = NB201_OPS.index("none")


def is_connected(ops: Sequence[int]) -> bool:
    """True when a path of non-``none`` edges leads from node 0 to node 3 (the cell is not degenerate)."""
    return cell.is_connected(ops, NB201_EDGES, NONE_ID)


def index_order(path: str | os.PathLike[str]) -> list[str]:
    """The 15,625 canonical archs in NAS-Bench-201 index order, from a CSV / Parquet with ``nb201_index`` and
    ``arch`` columns; checks that it is a permutation of the whole space."""
    import pandas as pd

    path = Path(path)
    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = {"nb201_index", "arch"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)} (need nb201_index and arch)")
    df = df.sort_values("nb201_index")
    size = len(NB201_OPS) ** len(NB201_EDGES)
    if df["nb201_index"].tolist() != list(range(size)):
        raise ValueError(f"{path}: nb201_index must be exactly 0..{size - 1}")
    archs = [canonical_arch("nb201", a) for a in df["arch"]]
    if len(set(archs)) != size:
        raise ValueError(f"{path}: the arch column is not a permutation of the {size} NB201 cells")
    return archs


@register("nb201")
class NB201Space(cell.EdgeOpCell, SearchSpace):
    """NAS-Bench-201 (Dong & Yang 2020) cell search space on the TinyNetwork skeleton."""

    encoding = "nb201"
    num_classes_default = 10
    num_valid = 15284
    cell_edges = NB201_EDGES
    cell_ops = NB201_OPS

    def describe(self, arch: str | Sequence[Any]) -> str:
        """The NAS-Bench-201 cell string, e.g. ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|``."""
        return nb201_to_string(self.parse(arch))

    def size(self) -> int:
        return len(NB201_OPS) ** len(NB201_EDGES)

    def enumerate(self, index_file: str | os.PathLike[str] | None = None) -> Iterator[str]:
        """All 15,625 cells: lexicographic, or NAS-Bench-201 index order read from ``index_file``."""
        if index_file is not None:
            yield from index_order(index_file)
            return
        for ops in itertools.product(range(len(NB201_OPS)), repeat=len(NB201_EDGES)):
            yield str(ops)

    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None):  # noqa: ANN201 - torch lazy
        from evoproxy.spaces.nb201_net import NB201Network

        return NB201Network(self.parse(arch), num_classes=num_classes or self.num_classes_default)
