"""TransNAS-Bench-101 macro (skeleton) space: 3,256 stacks of 4 to 6 layers of ResNet basic blocks.

Arch strings are tuples of 4 to 6 block codes, ``(1, 2, 3, 4)`` = the benchmark's arch string ``64-1234-basic``:
each code is one layer of two basic blocks; 1 keeps the shape, 2 doubles the channels, 3 halves the resolution, 4 does
both. NASLib pads the tuple with zeros to length 6; :mod:`evoproxy.encodings` strips that padding.

Validity (the benchmark's space): between 1 and 4 layers halve the resolution (codes 3, 4) and between 1 and 3
double the channels (codes 2, 4): 210 + 750 + 2,296 = 3,256 archs of length 4, 5, 6. :meth:`neighbours` are the
valid archs one edit away: one code changed, one layer inserted (any code, any position) or one removed. (NASLib's
``get_nbhd`` instead redraws random permutations of the changed counts, which is not a fixed neighbourhood.)
:meth:`enumerate` lists the archs by length, then lexicographically.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from evoproxy.encodings import ArchEncodingError
from evoproxy.spaces import register
from evoproxy.spaces.tnb101 import TNB101Space

CODES: tuple[int, ...] = (1, 2, 3, 4)
LENGTHS: tuple[int, ...] = (4, 5, 6)


def counts_ok(codes: Sequence[int]) -> bool:
    """1-4 resolution halvings (codes 3, 4) and 1-3 channel doublings (codes 2, 4)."""
    down = sum(1 for c in codes if c in (3, 4))
    wide = sum(1 for c in codes if c in (2, 4))
    return 1 <= down <= 4 and 1 <= wide <= 3


def all_archs() -> list[tuple[int, ...]]:
    """Every valid arch, by length then lexicographically."""
    return [t for n in LENGTHS for t in itertools.product(CODES, repeat=n) if counts_ok(t)]


@register("tnb101_macro")
class TNB101MacroSpace(TNB101Space):
    """TransNAS-Bench-101 macro: the skeleton is searched, the block is a ResNet basic block."""

    encoding = "tnb101_macro"
    num_valid = 3256

    def __init__(self) -> None:
        self._archs: list[tuple[int, ...]] | None = None

    def _all(self) -> list[tuple[int, ...]]:
        if self._archs is None:
            self._archs = all_archs()
        return self._archs

    def net_code(self, arch: str | Sequence[Any]) -> str:
        return "64-" + "".join(str(c) for c in self.parse(arch)) + "-basic"

    def from_net_code(self, code: str) -> str:
        """Canonical arch of a TransNAS-Bench-101 macro arch string, e.g. ``64-1234-basic`` -> (1, 2, 3, 4)."""
        parts = code.strip().split("-")
        if len(parts) != 3 or parts[0] != "64" or parts[2] != "basic" or not parts[1].isdigit():
            raise ArchEncodingError(f"tnb101_macro: {code!r} is not a macro arch string '64-<codes>-basic'")
        return self.canonical(tuple(int(c) for c in parts[1]))

    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        try:
            codes = self.parse(arch)
        except ValueError:
            return False
        return counts_ok(codes)

    def random_arch(self, rng: np.random.Generator) -> str:
        """A uniform draw from the 3,256 archs."""
        archs = self._all()
        return str(archs[int(rng.integers(len(archs)))])

    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        codes = list(self.parse(arch))
        cands: list[tuple[int, ...]] = []
        for i in range(len(codes)):
            for c in CODES:
                if c != codes[i]:
                    cands.append(tuple(codes[:i] + [c] + codes[i + 1:]))
        if len(codes) < max(LENGTHS):
            for i in range(len(codes) + 1):
                for c in CODES:
                    cands.append(tuple(codes[:i] + [c] + codes[i:]))
        if len(codes) > min(LENGTHS):
            for i in range(len(codes)):
                cands.append(tuple(codes[:i] + codes[i + 1:]))
        out: list[str] = []
        seen = {tuple(codes)}
        for t in cands:
            if t not in seen and counts_ok(t):
                seen.add(t)
                out.append(str(t))
        return out

    def size(self) -> int:
        return len(self._all())

    def enumerate(self) -> Iterator[str]:
        """All 3,256 archs: length 4, 5, 6, each lexicographically."""
        for t in self._all():
            yield str(t)
