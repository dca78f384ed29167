"""The search-space interface every registered space implements.

Architectures are canonical strings everywhere (the NASLib encodings of :mod:`evoproxy.encodings`), so a table key,
a NAS candidate and a model built from it always agree. The encoding, sampling and mutation logic is torch-free;
only :meth:`SearchSpace.to_model` imports torch (lazily), so sampling archs costs no torch import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evoproxy.encodings import ArchEncodingError, canonical_arch

if TYPE_CHECKING:
    import torch


class SearchSpace(ABC):
    """A NAS search space: canonical encoding, validity, sampling, mutation, neighbourhood and network builder."""

    name: str = ""
    encoding: str = ""
    """Key of :data:`evoproxy.encodings.CANONICALISERS` for this space's arch strings."""
    num_classes_default: int = 10
    num_valid: int | None = None
    """Number of valid archs when known (bounds :meth:`sample`)."""

    def canonical(self, arch: str | Sequence[Any]) -> str:
        """Canonical string of ``arch``; raise :class:`~evoproxy.encodings.ArchEncodingError` if malformed."""
        return canonical_arch(self.encoding, arch)

    def parse(self, arch: str | Sequence[Any]) -> Any:
        """Python value (tuples / lists of ints) of ``arch``, validated against the encoding."""
        import ast

        return ast.literal_eval(self.canonical(arch))

    @abstractmethod
    def is_valid(self, arch: str | Sequence[Any]) -> bool:
        """Whether ``arch`` is well formed *and* a valid member of the space (see each space for its rule)."""

    @abstractmethod
    def random_arch(self, rng: np.random.Generator) -> str:
        """One canonical arch drawn from ``rng`` (may be invalid; :meth:`sample` rejects those)."""

    @abstractmethod
    def neighbours(self, arch: str | Sequence[Any]) -> list[str]:
        """All valid archs one edit away from ``arch`` (canonical, distinct, in a fixed order)."""

    @abstractmethod
    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None) -> torch.nn.Module:
        """The benchmark's network for ``arch``: a classifier taking NCHW images, returning logits."""

    def describe(self, arch: str | Sequence[Any]) -> str:
        """Human-readable form of ``arch`` in the space's own notation (e.g. NB201 cell string, DARTS genotype)."""
        return self.canonical(arch)

    def size(self) -> int | None:
        """Number of archs in the space when it is finite and enumerable here, else ``None``."""
        return None

    def enumerate(self) -> Iterator[str]:
        """Every arch of a finite space in a documented fixed order."""
        raise ValueError(f"search space {self.name!r} is not enumerable here; sample archs or pass an arch file")

    def _require_valid(self, arch: str | Sequence[Any]) -> str:
        canon = self.canonical(arch)
        if not self.is_valid(canon):
            raise ArchEncodingError(f"{self.name}: arch {canon} is not a valid member of the space")
        return canon

    def sample(self, n: int, seed: int) -> list[str]:
        """``n`` distinct valid archs drawn uniformly (rejection sampling), deterministic given ``seed``."""
        if n < 0:
            raise ValueError(f"{self.name}: sample size must be >= 0, got {n}")
        if self.num_valid is not None and n > self.num_valid:
            raise ValueError(f"{self.name}: cannot draw {n} distinct archs, the space has {self.num_valid} valid ones")
        rng = np.random.default_rng(seed)
        out: list[str] = []
        seen: set[str] = set()
        tries, limit = 0, 1000 * max(n, 1) + 10_000
        while len(out) < n:
            tries += 1
            if tries > limit:
                raise ValueError(f"{self.name}: could not draw {n} distinct valid archs (space too small?)")
            arch = self.random_arch(rng)
            if arch not in seen and self.is_valid(arch):
                seen.add(arch)
                out.append(arch)
        return out

    def mutate(self, arch: str | Sequence[Any], seed: int) -> str:
        """A valid neighbour of ``arch`` different from it, drawn uniformly from :meth:`neighbours`."""
        canon = self.canonical(arch)
        options = self.neighbours(canon)
        if not options:
            raise ValueError(f"{self.name}: arch {canon} has no valid neighbour")
        return options[int(np.random.default_rng(seed).integers(len(options)))]

    def __repr__(self) -> str:
        return f"<SearchSpace {self.name}>"
