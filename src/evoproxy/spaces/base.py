"""The search-space interface every registered space implements.

Architectures are canonical strings everywhere (the NASLib encodings of :mod:`evoproxy.encodings`), so a table key,
a NAS candidate and a model built from it always agree. The encoding, sampling and mutation logic is torch-free;
only :meth:`SearchSpace.to_model` imports torch (lazily), so sampling archs costs no torch import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evoproxy.encodings import ArchEncodingError, canonical_arch

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class TaskSpec:
    """One task (dataset) a space's networks are built for: what a sample looks like and what the labels are.

    ``input_shape`` is one sample (e.g. ``(3, 32, 32)``; jigsaw tiles ``(9, 3, 64, 64)``); ``num_outputs`` the
    classes (or regression outputs, or output channels of a pixel task); ``target`` the label kind: ``class``
    (integer labels), ``soft`` (class distributions), ``regression`` (vectors), ``permutation`` (integer jigsaw
    permutation ids), ``pixel_class`` (per-pixel integer labels) or ``image`` (per-pixel regression)."""

    name: str
    input_shape: tuple[int, ...]
    num_outputs: int
    target: str = "class"


IMAGE_TASKS: dict[str, TaskSpec] = {
    "cifar10": TaskSpec("cifar10", (3, 32, 32), 10),
    "cifar100": TaskSpec("cifar100", (3, 32, 32), 100),
    "ImageNet16-120": TaskSpec("ImageNet16-120", (3, 16, 16), 120),
}
"""The image-classification tasks of the NB101 / NB201 / NB301 networks."""


MUTATION_CACHE_SIZE = 50_000
"""Archs whose neighbours :meth:`SearchSpace.mutate` keeps (NB201 has 15,625 cells)."""


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

    tasks: Mapping[str, TaskSpec] = IMAGE_TASKS
    """Tasks (``--dataset`` names) the space's networks are built for."""
    default_task: str = "cifar10"

    def task(self, name: str) -> TaskSpec:
        """The :class:`TaskSpec` of ``name``; a ValueError naming the known tasks otherwise."""
        if name not in self.tasks:
            raise ValueError(f"search space {self.name!r} has no task {name!r}; expected one of {sorted(self.tasks)}")
        return self.tasks[name]

    def model_for(self, arch: str | Sequence[Any], task: str, num_classes: int | None = None) -> torch.nn.Module:
        """The benchmark's network of ``arch`` for ``task`` (``num_classes`` overrides the task's classes)."""
        return self.to_model(arch, num_classes=num_classes or self.task(task).num_outputs)

    def loss_fn(self, task: str) -> Callable | None:
        """The loss the release's gradient proxies used on ``task`` (``None``: cross-entropy on integer labels)."""
        self.task(task)
        return None

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
        options = self._mutation_options(arch)
        return options[int(np.random.default_rng(seed).integers(len(options)))]

    def _mutation_options(self, arch: str | Sequence[Any]) -> tuple[str, ...]:
        """:meth:`neighbours` of ``arch``, memoised per arch string (a lookup search mutates the same few thousand
        archs tens of thousands of times; neighbours are a pure function of the arch)."""
        cache: dict[str, tuple[str, ...]] = self.__dict__.setdefault("_neighbour_cache", {})
        key = arch if isinstance(arch, str) else None
        if key is not None and key in cache:
            return cache[key]
        canon = self.canonical(arch)
        options = tuple(self.neighbours(canon))
        if not options:
            raise ValueError(f"{self.name}: arch {canon} has no valid neighbour")
        if key is not None:
            if len(cache) >= MUTATION_CACHE_SIZE:
                cache.clear()
            cache[key] = options
        return options

    def __repr__(self) -> str:
        return f"<SearchSpace {self.name}>"
