"""The two registries: proxies (a float from the pass outputs) and passes (the network work the proxies share).

A proxy module registers its score with :func:`register`, naming the passes it reads; a pass module (often the
same file) registers the pass with :func:`register_pass`. Each module of :mod:`evoproxy.proxies` is imported on
package import, so adding a proxy, or a proxy with a pass of its own, is one new file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True)
class PassSpec:
    """A registered pass.

    ``impl`` is either a function ``fn(ctx: PassContext) -> output`` run on its own, or a
    :class:`~evoproxy.proxies.passes.MinibatchStep` subclass, which joins the one shared train-mode forward of the
    minibatch (and the batch split on out-of-memory). ``order`` sets the execution order (lower first; ties in
    registration order), ``needs_data`` whether the pass reads the images and labels or only the batch shape.
    """

    name: str
    impl: Any
    order: float
    needs_data: bool
    doc: str

    @property
    def shared(self) -> bool:
        """Whether the pass is a step of the shared minibatch forward."""
        from evoproxy.proxies.passes import MinibatchStep

        return isinstance(self.impl, type) and issubclass(self.impl, MinibatchStep)


REGISTRY: dict[str, ProxySpec] = {}
PASS_REGISTRY: dict[str, PassSpec] = {}


def _doc(obj: Any) -> str:
    return ((getattr(obj, "__doc__", None) or "").strip().splitlines() or [""])[0]


def register(name: str, needs: tuple[str, ...]) -> Callable[[Callable[[PassResults], float]], Callable]:
    """Decorator: register ``fn(results) -> float`` as proxy ``name`` needing the passes ``needs``."""

    def deco(fn: Callable[[PassResults], float]) -> Callable[[PassResults], float]:
        if name in REGISTRY:
            raise KeyError(f"proxy {name!r} registered twice")
        REGISTRY[name] = ProxySpec(name, tuple(needs), fn, _doc(fn))
        return fn

    return deco


def register_pass(name: str, order: float = 50.0, needs_data: bool = True) -> Callable[[Any], Any]:
    """Decorator: register a pass ``name``: a function ``fn(ctx) -> output`` or a ``MinibatchStep`` subclass.

    The output is what proxies read as ``results[name]``. See :class:`PassSpec` for ``order`` and ``needs_data``.
    """

    def deco(impl: Any) -> Any:
        if name in PASS_REGISTRY:
            raise KeyError(f"pass {name!r} registered twice")
        PASS_REGISTRY[name] = PassSpec(name, impl, float(order), bool(needs_data), _doc(impl))
        return impl

    return deco


def unregister(name: str) -> None:
    """Remove proxy ``name`` (and nothing else); for plug-ins and tests that register temporarily."""
    REGISTRY.pop(name, None)


def unregister_pass(name: str) -> None:
    """Remove pass ``name``; for plug-ins and tests that register temporarily."""
    PASS_REGISTRY.pop(name, None)


def pass_order(names: set[str] | list[str]) -> list[str]:
    """``names`` in execution order (by ``order``, then registration); a ValueError lists the known passes when a
    name is unknown."""
    unknown = sorted(set(names) - set(PASS_REGISTRY))
    if unknown:
        raise ValueError(f"unknown passes {unknown}; known: {sorted(PASS_REGISTRY)}")
    index = {n: i for i, n in enumerate(PASS_REGISTRY)}
    return sorted(set(names), key=lambda n: (PASS_REGISTRY[n].order, index[n]))
