"""The GP function set: protected, vectorised numpy operators and their sympy / LaTeX forms.

Protection rules (the gplearn conventions, so formulas from either engine mean the same thing):

- ``div(a, b)`` = ``a / b`` where ``|b| > EPS`` else ``1``;
- ``log(a)`` = ``log(|a|)`` where ``|a| > EPS`` else ``0``;
- ``sqrt(a)`` = ``sqrt(|a|)``.

The sympy forms are the unprotected maths, except where an argument is identically zero (``div(x, sub(y, y))``
is 1 and ``log(sub(y, y))`` is 0, as evaluated, rather than sympy's complex infinity).

Non-finite inputs propagate (NaN stays NaN); the fitness then ranks non-finite outputs last (see
:mod:`evoproxy.metrics`), so such trees lose instead of crashing the run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from evoproxy.methods import PAPER_FUNCTIONS  # noqa: F401  (re-exported: the paper's subset of FUNCTIONS)

if TYPE_CHECKING:
    import sympy


def _sympy() -> ModuleType:
    """sympy, imported on first use: only a formula's printed forms need it (0.4 s of every job's start-up)."""
    return importlib.import_module("sympy")

EPS = 1e-10


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.true_divide(a, b)  # NaN in a or b stays NaN; |b| <= EPS is replaced below
    small = np.abs(b) <= EPS
    if small.any():
        out = np.array(out, dtype=np.float64)  # a broadcast scalar result is read-only
        out[np.broadcast_to(small, out.shape)] = 1.0
        out[np.isnan(np.broadcast_to(a, out.shape))] = np.nan
    return out


def _log(a: np.ndarray) -> np.ndarray:
    out = np.asarray(np.log(np.abs(a)))  # NaN stays NaN
    small = np.abs(a) <= EPS
    if small.any():
        out[small] = 0.0
    return out


def _sqrt(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.abs(a))


def _errstate(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def g(*args: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return f(*(np.asarray(a, dtype=np.float64) for a in args))

    g.__name__ = g.__qualname__ = getattr(f, "__name__", "g")
    return g


protected_div = _errstate(_div)
protected_log = _errstate(_log)
protected_sqrt = _errstate(_sqrt)


@dataclass(frozen=True)
class Primitive:
    """One function of the set: name, arity, numpy implementation, sympy builder, LaTeX template.

    ``fn`` is safe to call on anything (float64 conversion, no floating-point warnings); ``raw`` is the same
    computation on float64 arrays without those guards, for the population evaluator, which sets ``np.errstate``
    once around a whole batch.
    """

    name: str
    arity: int
    raw: Callable[..., np.ndarray]
    to_sympy: Callable[..., sympy.Expr]
    latex: str

    @property
    def fn(self) -> Callable[..., np.ndarray]:
        return _errstate(self.raw)


FUNCTIONS: dict[str, Primitive] = {
    p.name: p
    for p in (
        Primitive("add", 2, np.add, lambda a, b: a + b, "{0} + {1}"),
        Primitive("sub", 2, np.subtract, lambda a, b: a - b, "{0} - {1}"),
        Primitive("mul", 2, np.multiply, lambda a, b: a * b, "{0} {1}"),
        Primitive("neg", 1, np.negative, lambda a: -a, "-{0}"),
        Primitive("div", 2, _div, lambda a, b: _sympy().Integer(1) if b.is_zero else a / b, r"\frac{{{0}}}{{{1}}}"),
        Primitive("log", 1, _log, lambda a: _sympy().Integer(0) if a.is_zero else _sympy().log(_sympy().Abs(a)),
                  r"\log\left|{0}\right|"),
        Primitive("sqrt", 1, _sqrt, lambda a: _sympy().sqrt(_sympy().Abs(a)), r"\sqrt{{\left|{0}\right|}}"),
        Primitive("abs", 1, np.abs, lambda a: _sympy().Abs(a), r"\left|{0}\right|"),
        Primitive("square", 1, np.square, lambda a: a**2, r"\left({0}\right)^2"),
        Primitive("min", 2, np.minimum, lambda a, b: _sympy().Min(a, b), r"\min\left({0}, {1}\right)"),
        Primitive("max", 2, np.maximum, lambda a, b: _sympy().Max(a, b), r"\max\left({0}, {1}\right)"),
    )
}
"""Every function the engine knows; ``sr.functions`` picks the subset (paper: the first seven; the default adds
``min`` and ``max``). NaN propagates through every one, ``min`` and ``max`` included."""



def get(name: str) -> Primitive:
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}") from None
