"""NAS-Bench-101 search space: 7-vertex cells, <= 9 edges, interior ops conv3x3 / conv1x1 / maxpool3x3.

Arch strings are NASLib's 56-tuples (49 flattened adjacency entries + 7 op ids; see :mod:`.nb101_spec`). Validity is
NAS-Bench-101's (after pruning vertices off every input -> output path: output reachable, <= 9 edges, input and
output ops at the ends, interior ops in {2, 3, 4}). :meth:`sample` draws as the benchmark's examples do (each upper
triangular edge with probability 1/2, uniform interior ops, rejection of invalid specs) and returns specs with
distinct graph hashes, so no two samples are the same network. The space (423,624 unique graphs) is not enumerated
here: :meth:`size` is ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evoproxy.encodings import NB101_OPS
from evoproxy.spaces import register
from evoproxy.spaces.base import SearchSpace
from evoproxy.spaces.nb101_spec import (
    CONV3X3,
    INPUT,
    INTERIOR_OPS,
    OUTPUT,
    is_valid_spec,
    join,
    prune,
    spec_hash,
    split,
)


@register("nb101")
class NB101Space(SearchSpace):
    """NAS-Bench-101 (Ying et al. 2019) on its 3-stack, 128-channel skeleton."""

    encoding = "nb101"
    num_classes_default = 10

    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        try:
            matrix, ops = split(self.parse(arch))
        except ValueError:
            return False
        return is_valid_spec(matrix, ops)

    def pruned(self, arch: str | Sequence[Any]) -> tuple[np.ndarray, list[int]]:
        """The pruned (matrix, ops) of a valid arch (what the network is built from)."""
        canon = self._require_valid(arch)
        pruned = prune(*split(self.parse(canon)))
        assert pruned is not None  # guaranteed by validity
        return pruned

    def hash(self, arch: str | Sequence[Any]) -> str:
        """NAS-Bench-101 graph hash of a valid arch (equal for isomorphic / prune-equivalent specs)."""
        return spec_hash(*self.pruned(arch))

    def from_spec(self, matrix: Sequence[Sequence[int]], ops: Sequence[int | str]) -> str:
        """Canonical 56-tuple of a NAS-Bench-101 spec (op names as in ``nasbench`` or NASLib ids); specs with fewer
        than 7 vertices are padded with unconnected vertices before the output, which pruning removes again."""
        m = np.asarray(matrix, dtype=np.int64)
        n = len(ops)
        if m.shape != (n, n) or not 2 <= n <= 7:
            raise ValueError(f"nb101: matrix of shape {m.shape} does not fit {n} ops (2..7 vertices)")
        ids = [NB101_OPS.index(o) if isinstance(o, str) else int(o) for o in ops]
        full = np.zeros((7, 7), dtype=np.int64)
        pad = 7 - n
        idx = list(range(n - 1)) + [6]  # old vertex -> new position; the output stays last
        for i in range(n):
            for j in range(n):
                full[idx[i], idx[j]] = m[i, j]
        full_ops = ids[:-1] + [CONV3X3] * pad + [ids[-1]]
        return self.canonical(join(full, full_ops))

    def describe(self, arch: str | Sequence[Any]) -> str:
        """The pruned spec: op names and the adjacency matrix rows."""
        matrix, ops = self.pruned(arch)
        rows = ",".join("".join(str(int(v)) for v in row) for row in matrix)
        return f"ops={[NB101_OPS[o] for o in ops]} matrix=[{rows}]"

    def random_arch(self, rng: np.random.Generator) -> str:
        matrix = np.triu(rng.integers(0, 2, size=(7, 7)), k=1)
        ops = [INPUT, *(int(o) for o in rng.choice(INTERIOR_OPS, size=5)), OUTPUT]
        return str(join(matrix, ops))

    def sample(self, n: int, seed: int) -> list[str]:
        """``n`` valid archs with distinct graph hashes (distinct networks), deterministic given ``seed``."""
        if n < 0:
            raise ValueError(f"nb101: sample size must be >= 0, got {n}")
        rng = np.random.default_rng(seed)
        out: list[str] = []
        seen: set[str] = set()
        while len(out) < n:
            arch = self.random_arch(rng)
            if self.is_valid(arch):
                h = self.hash(arch)
                if h not in seen:
                    seen.add(h)
                    out.append(arch)
        return out

    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        """Valid specs one edge flip or one interior op change away (NASLib's NB101 neighbourhood)."""
        matrix, ops = split(self.parse(arch))
        out: list[str] = []
        for i in range(7):
            for j in range(i + 1, 7):
                m = matrix.copy()
                m[i, j] = 1 - m[i, j]
                if is_valid_spec(m, ops):
                    out.append(str(join(m, ops)))
        for v in range(1, 6):
            for o in INTERIOR_OPS:
                if o != ops[v]:
                    new = list(ops)
                    new[v] = o
                    if is_valid_spec(matrix, new):
                        out.append(str(join(matrix, new)))
        return out

    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None):  # noqa: ANN201 - torch lazy
        from evoproxy.spaces.nb101_net import NB101Network

        matrix, ops = self.pruned(arch)
        return NB101Network(matrix, ops, num_classes=num_classes or self.num_classes_default)
