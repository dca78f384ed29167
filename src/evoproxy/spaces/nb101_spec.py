"""NAS-Bench-101 model specs (torch-free): the 56-tuple <-> (matrix, ops), pruning and validity.

Follows ``nasbench/lib/model_spec.py`` (Ying et al. 2019): vertices that are not on a path input -> output are
removed ("pruned") before the graph is built or hashed; a spec is valid when, after pruning, the input still reaches
the output, the graph has at most 9 edges and 7 vertices, the first op is ``input``, the last ``output`` and every
interior op one of conv3x3-bn-relu / conv1x1-bn-relu / maxpool3x3 (checked on all 5 interior vertices of the 56-tuple,
pruned or not).

NASLib 56-tuple: ``matrix.flatten()`` (49 entries, strictly upper triangular) followed by 7 op ids
(0=input 1=output 2=maxpool3x3 3=conv1x1-bn-relu 4=conv3x3-bn-relu, NASLib's ``conversions.all_ops``).

:func:`spec_hash` is the benchmark's graph fingerprint (``nasbench/lib/graph_util.py: hash_module``, a
Weisfeiler-Lehman style md5 hash of the pruned graph): isomorphic specs get the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from evoproxy.encodings import NB101_OPS

INPUT, OUTPUT = NB101_OPS.index("input"), NB101_OPS.index("output")
MAXPOOL3X3 = NB101_OPS.index("maxpool3x3")
CONV1X1 = NB101_OPS.index("conv1x1-bn-relu")
CONV3X3 = NB101_OPS.index("conv3x3-bn-relu")
INTERIOR_OPS = (MAXPOOL3X3, CONV1X1, CONV3X3)
AVAILABLE_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""The benchmark's ``available_ops`` order (used for the hash labelling)."""
MAX_EDGES = 9
MAX_VERTICES = 7


def split(arch: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """56-tuple -> (7x7 int matrix, 7 op ids)."""
    return np.asarray(arch[:49], dtype=np.int64).reshape(7, 7), [int(o) for o in arch[49:]]


def join(matrix: np.ndarray, ops: Sequence[int]) -> tuple[int, ...]:
    """(7x7 matrix, 7 op ids) -> 56-tuple."""
    return tuple(int(v) for v in np.asarray(matrix).reshape(-1)) + tuple(int(o) for o in ops)


def prune(matrix: np.ndarray, ops: Sequence[int]) -> tuple[np.ndarray, list[int]] | None:
    """Drop vertices not on an input -> output path; ``None`` when the output is unreachable."""
    n = len(matrix)
    fwd = {0}
    for v in range(n):  # topological order: the matrix is upper triangular
        if v in fwd:
            fwd.update(int(d) for d in np.flatnonzero(matrix[v]))
    bwd = {n - 1}
    for v in range(n - 1, -1, -1):
        if v in bwd:
            bwd.update(int(s) for s in np.flatnonzero(matrix[:, v]))
    if n - 1 not in fwd:
        return None
    keep = sorted(fwd & bwd)
    return matrix[np.ix_(keep, keep)].copy(), [ops[k] for k in keep]


def is_valid_spec(matrix: np.ndarray, ops: Sequence[int]) -> bool:
    """NAS-Bench-101 validity of an unpruned (matrix, ops) pair."""
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(ops) or len(ops) > MAX_VERTICES:
        return False
    if np.any(np.tril(m) != 0) or not np.isin(m, (0, 1)).all():
        return False
    if ops[0] != INPUT or ops[-1] != OUTPUT or any(o not in INTERIOR_OPS for o in ops[1:-1]):
        return False  # checked before pruning too: a 56-tuple with 'output' mid-cell is malformed
    pruned = prune(m, ops)
    if pruned is None:
        return False
    return int(pruned[0].sum()) <= MAX_EDGES


def spec_hash(matrix: np.ndarray, ops: Sequence[int]) -> str:
    """Graph fingerprint of a *pruned* spec, as ``nasbench`` computes it (isomorphism-invariant)."""
    m = np.asarray(matrix)
    n = len(m)
    labels = [-1] + [AVAILABLE_OPS.index(NB101_OPS[o]) for o in ops[1:-1]] + [-2]
    in_edges = m.sum(axis=0).tolist()
    out_edges = m.sum(axis=1).tolist()
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in zip(out_edges, in_edges, labels, strict=True)]
    for _ in range(n):
        new = []
        for v in range(n):
            ins = "".join(sorted(hashes[w] for w in range(n) if m[w, v]))
            outs = "".join(sorted(hashes[w] for w in range(n) if m[v, w]))
            new.append(hashlib.md5((ins + "|" + outs + "|" + hashes[v]).encode("utf-8")).hexdigest())
        hashes = new
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()
