"""Proxy registry: each proxy module registers one function from the shared pass results to a float.

Adding a proxy touches one new file: declare which passes it needs (see :mod:`evoproxy.proxies.passes`) and how to
turn their results into a score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evoproxy.proxies.passes import PassResults


class ProxyError(ValueError):
    """A proxy that cannot be computed: unknown name, or the model breaks the proxy's assumptions."""

    def __init__(self, proxy: str, reason: str) -> None:
        super().__init__(f"proxy {proxy!r}: {reason}")
        self.proxy = proxy
        self.reason = reason


@dataclass(frozen=True)
class ProxySpec:
    """A registered proxy: its name, the passes it needs, and the function that reads the pass results."""

    name: str
    needs: tuple[str, ...]
    fn: Callable[[PassResults], float]
    doc: str


REGISTRY: dict[str, ProxySpec] = {}


def register(name: str, needs: tuple[str, ...]) -> Callable[[Callable[[PassResults], float]], Callable]:
    """Decorator: register ``fn(results) -> float`` as proxy ``name`` needing the passes ``needs``."""

    def deco(fn: Callable[[PassResults], float]) -> Callable[[PassResults], float]:
        if name in REGISTRY:
            raise KeyError(f"proxy {name!r} registered twice")
        REGISTRY[name] = ProxySpec(name, tuple(needs), fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return deco
