"""Search-space registry: ``get_space("nb201")`` returns a :class:`SearchSpace`.

Adding a space is one new module that defines a :class:`SearchSpace` subclass decorated with :func:`register`, plus
its name in ``_MODULES`` below (the modules are imported on first use so this package stays torch-free).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from evoproxy.spaces.base import SearchSpace

SPACES: dict[str, type[SearchSpace]] = {}
"""Registered space classes by name (filled as the space modules are imported)."""

ALIASES: dict[str, str] = {"darts": "nb301", "nasbench201": "nb201", "nasbench101": "nb101", "nasbench301": "nb301",
                           "transbench101_micro": "tnb101_micro", "transbench101_macro": "tnb101_macro"}

_MODULES: tuple[str, ...] = ("nb201", "nb101", "darts", "tnb101_micro", "tnb101_macro")


def register(name: str) -> Callable[[type[SearchSpace]], type[SearchSpace]]:
    """Class decorator adding a search space under ``name``."""

    def deco(cls: type[SearchSpace]) -> type[SearchSpace]:
        cls.name = name
        SPACES[name] = cls
        return cls

    return deco


def _load_all() -> None:
    for mod in _MODULES:
        importlib.import_module(f"evoproxy.spaces.{mod}")


def get_space(name: str) -> SearchSpace:
    """A fresh instance of the registered space ``name`` (aliases: darts -> nb301, nasbench201 -> nb201,
    transbench101_micro -> tnb101_micro, ...)."""
    _load_all()
    key = ALIASES.get(name, name)
    if key not in SPACES:
        raise ValueError(f"unknown search space {name!r}; known: {sorted(SPACES)} (aliases {sorted(ALIASES)})")
    return SPACES[key]()


def available() -> list[str]:
    """Names of all registered spaces."""
    _load_all()
    return sorted(SPACES)


_load_all()

__all__ = ["ALIASES", "SPACES", "SearchSpace", "available", "get_space", "register"]
