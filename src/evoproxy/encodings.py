"""Canonical NASLib architecture encodings of the five NAS-Bench-Suite-Zero search spaces.

Every table keys architectures by one canonical string per space, so the same network always has the same key
whatever whitespace or bracket style a file used:

- ``nb201``: ``"(e01, e02, e03, e12, e13, e23)"``, op ids 0=skip_connect 1=none 2=nor_conv_3x3 3=nor_conv_1x1
  4=avg_pool_3x3. The NAS-Bench-201 cell string ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|`` is accepted too.
- ``nb101``: a 56-tuple, 49 entries of the flattened 7x7 upper-triangular adjacency matrix then 7 op ids
  (0=input 1=output 2=maxpool3x3 3=conv1x1-bn-relu 4=conv3x3-bn-relu: NASLib's ``conversions.all_ops``; with
  this mapping the NB101 network's parameter count equals the release's ``params`` on all 500 mirror archs).
- ``nb301``: ``"[[(input, op) x 8 normal], [(input, op) x 8 reduce]]"``; the two edges of intermediate node k take
  inputs in 0..k+1, op ids 0..6 (DARTS ops).
- ``tnb101_micro``: a 6-tuple over 4 ops (0=none 1=skip_connect 2=conv1x1 3=conv3x3) in the order of the
  TransNAS-Bench-101 cell string ``a_bc_def``: edges (0,1), (0,2), (1,2), (0,3), (1,3), (2,3) (NASLib formats the
  tuple into that string; this is not the NB201 edge order).
- ``tnb101_macro``: a 4- to 6-tuple of block codes 1..4 (NASLib's zero padding to length 6 is stripped).

This module is torch-free: ingest needs it, and so do the model builders in :mod:`evoproxy.spaces`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence

NB201_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NB201_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
NB101_OPS: tuple[str, ...] = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")
DARTS_OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
TNB_MICRO_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")

_NB201_STR = re.compile(r"^\|.*\|$")


class ArchEncodingError(ValueError):
    """An architecture string that is not a valid encoding of its search space."""


def _literal(arch: str | Sequence, space: str) -> object:
    if not isinstance(arch, str):
        return arch
    try:
        return ast.literal_eval(arch.strip())
    except (ValueError, SyntaxError) as exc:
        raise ArchEncodingError(f"{space}: cannot parse arch {arch!r}: {exc}") from exc


def _int_tuple(value: object, space: str, arch: object) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ArchEncodingError(f"{space}: arch {arch!r} is not a flat tuple of integers")
    return tuple(int(v) for v in value)


def nb201_from_string(cell: str) -> tuple[int, ...]:
    """Parse a NAS-Bench-201 cell string (``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``) into the NASLib 6-tuple."""
    nodes = cell.strip().split("+")
    if len(nodes) != 3:
        raise ArchEncodingError(f"nb201: cell string {cell!r} must have 3 nodes separated by '+'")
    ops: dict[tuple[int, int], int] = {}
    for j, node in enumerate(nodes, start=1):
        parts = [p for p in node.strip().strip("|").split("|") if p]
        if len(parts) != j:
            raise ArchEncodingError(f"nb201: node {j} of {cell!r} must have {j} edges, got {len(parts)}")
        for part in parts:
            name, _, src = part.partition("~")
            if name not in NB201_OPS or not src.isdigit() or int(src) >= j:
                raise ArchEncodingError(f"nb201: bad edge {part!r} in {cell!r}")
            ops[(int(src), j)] = NB201_OPS.index(name)
    return tuple(ops[e] for e in NB201_EDGES)


def nb201_to_string(arch: Sequence[int]) -> str:
    """Format a NASLib 6-tuple as the NAS-Bench-201 cell string."""
    op = dict(zip(NB201_EDGES, arch, strict=True))
    nodes = ["|" + "|".join(f"{NB201_OPS[op[(i, j)]]}~{i}" for i in range(j)) + "|" for j in (1, 2, 3)]
    return "+".join(nodes)


def _canon_nb201(arch: str | Sequence) -> str:
    if isinstance(arch, str) and _NB201_STR.match(arch.strip()):
        return str(nb201_from_string(arch))
    t = _int_tuple(_literal(arch, "nb201"), "nb201", arch)
    if len(t) != 6 or any(not 0 <= v < len(NB201_OPS) for v in t):
        raise ArchEncodingError(f"nb201: arch {arch!r} must be 6 op ids in 0..4")
    return str(t)


def _canon_nb101(arch: str | Sequence) -> str:
    t = _int_tuple(_literal(arch, "nb101"), "nb101", arch)
    if len(t) != 56:
        raise ArchEncodingError(f"nb101: arch {arch!r} must have 56 entries (49 adjacency + 7 ops), got {len(t)}")
    adj, ops = t[:49], t[49:]
    for i in range(7):
        for j in range(7):
            v = adj[7 * i + j]
            if v not in (0, 1) or (v == 1 and j <= i):
                raise ArchEncodingError(f"nb101: arch {arch!r} adjacency must be 0/1 and strictly upper-triangular")
    if any(not 0 <= o < len(NB101_OPS) for o in ops):
        raise ArchEncodingError(f"nb101: arch {arch!r} op ids must be in 0..4")
    return str(t)


def _canon_nb301(arch: str | Sequence) -> str:
    value = _literal(arch, "nb301")
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ArchEncodingError(f"nb301: arch {arch!r} must be [normal, reduce]")
    cells = []
    for cell in value:
        if not isinstance(cell, (list, tuple)) or len(cell) != 8:
            raise ArchEncodingError(f"nb301: arch {arch!r}: each cell must have 8 (input, op) pairs")
        pairs = []
        for i, pair in enumerate(cell):
            p = _int_tuple(pair, "nb301", arch)
            if len(p) != 2 or not 0 <= p[0] <= i // 2 + 1 or not 0 <= p[1] < len(DARTS_OPS):
                raise ArchEncodingError(f"nb301: arch {arch!r}: bad (input, op) pair {pair!r} at edge {i}")
            pairs.append(p)
        cells.append(pairs)
    return str(cells)


def _canon_tnb_micro(arch: str | Sequence) -> str:
    t = _int_tuple(_literal(arch, "tnb101_micro"), "tnb101_micro", arch)
    if len(t) != 6 or any(not 0 <= v < len(TNB_MICRO_OPS) for v in t):
        raise ArchEncodingError(f"tnb101_micro: arch {arch!r} must be 6 op ids in 0..3")
    return str(t)


def _canon_tnb_macro(arch: str | Sequence) -> str:
    t = _int_tuple(_literal(arch, "tnb101_macro"), "tnb101_macro", arch)
    while len(t) > 4 and t[-1] == 0:  # NASLib pads op indices with zeros to length 6
        t = t[:-1]
    if not 4 <= len(t) <= 6 or any(not 1 <= v <= 4 for v in t):
        raise ArchEncodingError(f"tnb101_macro: arch {arch!r} must be 4 to 6 block codes in 1..4")
    return str(t)


CANONICALISERS: dict[str, Callable[[str | Sequence], str]] = {
    "nb101": _canon_nb101,
    "nb201": _canon_nb201,
    "nb301": _canon_nb301,
    "tnb101_micro": _canon_tnb_micro,
    "tnb101_macro": _canon_tnb_macro,
}


def canonical_arch(space: str, arch: str | Sequence) -> str:
    """Return the canonical string of ``arch`` in ``space``; raise :class:`ArchEncodingError` if invalid."""
    try:
        fn = CANONICALISERS[space]
    except KeyError:
        raise ArchEncodingError(f"unknown search space {space!r}; known: {sorted(CANONICALISERS)}") from None
    return fn(arch)


def parse_arch(space: str, arch: str | Sequence) -> object:
    """Parse ``arch`` into its Python value (tuple of ints, or nested lists for nb301), validated."""
    return ast.literal_eval(canonical_arch(space, arch))
