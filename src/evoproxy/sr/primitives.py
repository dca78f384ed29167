"""The GP function set: protected, vectorised numpy operators and their sympy / LaTeX forms.

Protection rules (the gplearn conventions, so formulas from either engine mean the same thing):

- ``div(a, b)`` = ``a / b`` where ``|b| > EPS`` else ``1``;
- ``log(a)`` = ``log(|a|)`` where ``|a| > EPS`` else ``0``;
- ``sqrt(a)`` = ``sqrt(|a|)``.

Non-finite inputs propagate (NaN stays NaN); the fitness then ranks non-finite outputs last (see
:mod:`evoproxy.metrics`), so such trees lose instead of crashing the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

EPS = 1e-10


def protected_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    ok = np.abs(b) > EPS
    with np.errstate(all="ignore"):
        out = np.where(ok, a / np.where(ok, b, 1.0), 1.0)
    return np.where(np.isnan(a) | np.isnan(b), np.nan, out)


def protected_log(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    aa = np.abs(a)
    ok = aa > EPS
    with np.errstate(all="ignore"):
        out = np.where(ok, np.log(np.where(ok, aa, 1.0)), 0.0)
    return np.where(np.isnan(a), np.nan, out)


def protected_sqrt(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.abs(np.asarray(a, dtype=np.float64)))


def _errstate(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def g(*args: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return f(*args)

    return g


@dataclass(frozen=True)
class Primitive:
    """One function of the set: name, arity, numpy implementation, sympy builder, LaTeX template."""

    name: str
    arity: int
    fn: Callable[..., np.ndarray]
    to_sympy: Callable[..., sp.Expr]
    latex: str


FUNCTIONS: dict[str, Primitive] = {
    p.name: p
    for p in (
        Primitive("add", 2, _errstate(np.add), lambda a, b: a + b, "{0} + {1}"),
        Primitive("sub", 2, _errstate(np.subtract), lambda a, b: a - b, "{0} - {1}"),
        Primitive("mul", 2, _errstate(np.multiply), lambda a, b: a * b, "{0} {1}"),
        Primitive("neg", 1, np.negative, lambda a: -a, "-{0}"),
        Primitive("div", 2, protected_div, lambda a, b: a / b, r"\frac{{{0}}}{{{1}}}"),
        Primitive("log", 1, protected_log, lambda a: sp.log(sp.Abs(a)), r"\log\left|{0}\right|"),
        Primitive("sqrt", 1, protected_sqrt, lambda a: sp.sqrt(sp.Abs(a)), r"\sqrt{{\left|{0}\right|}}"),
        Primitive("abs", 1, np.abs, lambda a: sp.Abs(a), r"\left|{0}\right|"),
        Primitive("square", 1, _errstate(np.square), lambda a: a**2, r"\left({0}\right)^2"),
    )
}
"""Every function the engine knows; ``sr.functions`` picks the subset (paper: the first seven)."""

PAPER_FUNCTIONS: tuple[str, ...] = ("add", "sub", "mul", "neg", "div", "log", "sqrt")


def get(name: str) -> Primitive:
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}") from None
