"""A formula over ZC proxies: JSON AST <-> text / sympy / LaTeX, and one vectorised evaluator.

AST: a nested prefix list. A terminal is ``["proxy", name]``; a function node is ``[fname, child, ...]`` with
``fname`` in :data:`evoproxy.sr.primitives.FUNCTIONS`, e.g. ``["add", ["proxy", "nwot"], ["log", ["proxy",
"flops"]]]``. Every consumer (score, report, NAS objective) evaluates through :meth:`Formula.evaluate`, so a formula
gives the same numbers everywhere.

Missing-proxy rule: a proxy absent from the columns (or all-NaN in a table) evaluates to NaN; NaN propagates, and
the rank metrics rank non-finite scores last (all non-finite -> constant -> correlation 0). A tree that needs a proxy
a problem lacks therefore scores 0 on that problem and loses against trees that do not need it.

FormulaRun JSON (``results/evolve/<protocol>/<trainset>/run_<seed>.json``), written by :mod:`evoproxy.sr.engine`:

- ``formula``: AST; ``text``: function-call text (``add(nwot, log(flops))``); ``sympy``: sympy text, simplified up to 60 nodes
  (protected ops shown as their unprotected maths, ``log(Abs(x))``); ``latex``; ``proxies``: sorted terminal names;
- ``transform``: terminal transform (``none`` | ``signed_log`` | ``rank``, see :mod:`evoproxy.sr.transforms`);
- ``fitness``: ``{metric, aggregate, train_fitness, per_problem: {pid: {train: {n, kendall, spearman}, test: {n,
  kendall, spearman}}}}``; ``train_fitness`` is the aggregate of ``metric`` over the training splits;
- ``split``: ``{n_train, max_train_fraction, seed}`` (the shared split of :func:`evoproxy.problems.train_mask`);
- ``trainset``: problem ids; ``config``: the full SR config; ``seed``; ``versions``; ``wall_seconds``;
- ``history``: per generation ``{gen, best, mean, median, mean_size, best_size, nevals, seconds}``;
- ``pareto`` (multi-objective runs): list of ``{formula, text, fitness, size}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from evoproxy.fileio import read_json
from evoproxy.sr import primitives, transforms

Ast = list[Any]
SIMPLIFY_MAX_SIZE = 60
"""Largest formula (in nodes) whose sympy form is simplified; sympy.simplify took > 5 min on a 334-node formula."""


def validate_ast(ast: Any, where: str = "formula") -> None:
    """Raise ValueError naming the bad node when ``ast`` is not a valid formula AST."""
    if not isinstance(ast, list) or not ast or not isinstance(ast[0], str):
        raise ValueError(f"{where}: expected a list [name, ...], got {ast!r}")
    head = ast[0]
    if head == "proxy":
        if len(ast) != 2 or not isinstance(ast[1], str):
            raise ValueError(f"{where}: terminal must be ['proxy', name], got {ast!r}")
        return
    prim = primitives.FUNCTIONS.get(head)
    if prim is None:
        raise ValueError(f"{where}: unknown function {head!r}; known: proxy, {', '.join(primitives.FUNCTIONS)}")
    if len(ast) - 1 != prim.arity:
        raise ValueError(f"{where}: {head} takes {prim.arity} argument(s), got {len(ast) - 1}")
    for i, child in enumerate(ast[1:]):
        validate_ast(child, f"{where}[{i + 1}]")


def ast_proxies(ast: Ast) -> list[str]:
    out: set[str] = set()

    def walk(node: Ast) -> None:
        if node[0] == "proxy":
            out.add(node[1])
        else:
            for c in node[1:]:
                walk(c)

    walk(ast)
    return sorted(out)


def ast_size(ast: Ast) -> int:
    return 1 if ast[0] == "proxy" else 1 + sum(ast_size(c) for c in ast[1:])


def ast_depth(ast: Ast) -> int:
    return 0 if ast[0] == "proxy" else 1 + max(ast_depth(c) for c in ast[1:])


def ast_text(ast: Ast) -> str:
    if ast[0] == "proxy":
        return ast[1]
    return f"{ast[0]}({', '.join(ast_text(c) for c in ast[1:])})"


def ast_from_text(text: str) -> Ast:
    """Parse the function-call text of :func:`ast_text` back into an AST."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    pos = 0

    def parse() -> Ast:
        nonlocal pos
        name = tokens[pos]
        pos += 1
        if pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            args = [parse()]
            while tokens[pos] == ",":
                pos += 1
                args.append(parse())
            if tokens[pos] != ")":
                raise ValueError(f"formula text {text!r}: expected ')' at token {pos}")
            pos += 1
            return [name, *args]
        return ["proxy", name]

    ast = parse()
    if pos != len(tokens):
        raise ValueError(f"formula text {text!r}: trailing tokens")
    validate_ast(ast, f"formula text {text!r}")
    return ast


def evaluate_ast(ast: Ast, columns: Mapping[str, np.ndarray], n: int | None = None) -> np.ndarray:
    """Vectorised evaluation; a proxy missing from ``columns`` is all-NaN."""
    if n is None:
        n = len(next(iter(columns.values()))) if columns else 0

    def ev(node: Ast) -> np.ndarray:
        if node[0] == "proxy":
            col = columns.get(node[1])
            return np.full(n, np.nan) if col is None else np.asarray(col, dtype=np.float64)
        return primitives.FUNCTIONS[node[0]].raw(*(ev(c) for c in node[1:]))

    with np.errstate(all="ignore"):
        out = np.asarray(ev(ast), dtype=np.float64)
    return np.broadcast_to(out, (n,)).copy() if out.shape != (n,) else out


def ast_to_sympy(ast: Ast) -> sp.Expr:
    if ast[0] == "proxy":
        return sp.Symbol(ast[1], real=True)
    return primitives.FUNCTIONS[ast[0]].to_sympy(*(ast_to_sympy(c) for c in ast[1:]))


def ast_from_sympy(expr: sp.Expr) -> Ast:
    """Convert a sympy expression over proxy symbols to an AST (used by the PySR backend)."""
    if isinstance(expr, sp.Symbol):
        return ["proxy", expr.name]
    if isinstance(expr, sp.Add):
        args = [ast_from_sympy(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = ["add", out, a]
        return out
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return ["neg", ast_from_sympy(rest)]
        nums, dens = [], []
        for a in sp.Mul.make_args(expr):
            if isinstance(a, sp.Pow) and a.exp.is_negative:
                dens.append(ast_from_sympy(sp.Pow(a.base, -a.exp)))
            else:
                nums.append(ast_from_sympy(a))
        num = nums[0] if nums else None
        for a in nums[1:]:
            num = ["mul", num, a]
        if not dens:
            return num
        den = dens[0]
        for a in dens[1:]:
            den = ["mul", den, a]
        if num is None:
            raise ValueError(f"cannot convert {expr}: a bare reciprocal needs a constant 1, constants are not terminals")
        return ["div", num, den]
    if isinstance(expr, sp.Pow):
        base, exp = expr.args
        if exp == sp.Rational(1, 2):
            return ["sqrt", ast_from_sympy(base.args[0] if isinstance(base, sp.Abs) else base)]
        if exp == 2:
            b = ast_from_sympy(base)
            return ["mul", b, b]
        if exp.is_Integer and exp > 0:
            b = ast_from_sympy(base)
            out = b
            for _ in range(int(exp) - 1):
                out = ["mul", out, b]
            return out
    if isinstance(expr, sp.log):
        arg = expr.args[0]
        return ["log", ast_from_sympy(arg.args[0] if isinstance(arg, sp.Abs) else arg)]
    if isinstance(expr, sp.Abs):
        return ["abs", ast_from_sympy(expr.args[0])]
    raise ValueError(f"cannot convert {expr} ({type(expr).__name__}) to a formula AST: constants are not terminals")


def _latex(ast: Ast, parent: str | None = None) -> str:
    if ast[0] == "proxy":
        return rf"\mathrm{{{ast[1].replace('_', chr(92) + '_')}}}"
    prim = primitives.FUNCTIONS[ast[0]]
    kids = [_latex(c, ast[0]) for c in ast[1:]]
    s = prim.latex.format(*kids)
    if ast[0] in ("add", "sub", "neg") and parent in ("mul", "sub", "neg"):
        s = rf"\left({s}\right)"
    return s


@dataclass
class Formula:
    """A formula AST plus, when loaded from a run, the whole FormulaRun dict (``run``)."""

    ast: Ast
    run: dict[str, Any] | None = None
    transform: str = "none"
    _sympy: sp.Expr | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        validate_ast(self.ast)
        if self.transform not in transforms.TRANSFORMS:
            raise ValueError(f"formula transform {self.transform!r} not in {transforms.TRANSFORMS}")

    @classmethod
    def from_ast(cls, ast: Ast, transform: str = "none") -> Formula:
        return cls(ast=json.loads(json.dumps(ast)), transform=transform)

    @classmethod
    def from_text(cls, text: str, transform: str = "none") -> Formula:
        return cls(ast=ast_from_text(text), transform=transform)

    @property
    def proxies(self) -> list[str]:
        return ast_proxies(self.ast)

    @property
    def size(self) -> int:
        return ast_size(self.ast)

    @property
    def depth(self) -> int:
        return ast_depth(self.ast)

    @property
    def text(self) -> str:
        return ast_text(self.ast)

    @property
    def sympy(self) -> sp.Expr:
        """The formula as a sympy expression, ``sympy.simplify``-ed when it has at most :data:`SIMPLIFY_MAX_SIZE`
        nodes (simplify can take hours on a large nested formula; the unsimplified form is equally exact)."""
        if self._sympy is None:
            expr = ast_to_sympy(self.ast)
            self._sympy = sp.simplify(expr) if self.size <= SIMPLIFY_MAX_SIZE else expr
        return self._sympy

    @property
    def sympy_text(self) -> str:
        return str(self.sympy)

    @property
    def latex(self) -> str:
        return _latex(self.ast)

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Formula output per row (raw columns, no transform); missing proxy -> all-NaN."""
        return evaluate_ast(self.ast, columns)

    def evaluate_table(self, table: Any) -> np.ndarray:
        """Formula output per row of a ProblemTable, with the run's terminal transform applied to its columns."""
        cols = {p: transforms.apply(table.values(p), self.transform) for p in self.proxies}
        return evaluate_ast(self.ast, cols, n=table.n)

    def score_model(
        self, model: Any, inputs: Any, targets: Any, device: str = "cpu", loss_fn: Any = None
    ) -> float:
        """Score one network: compute the proxies this formula uses (torch, imported lazily) and evaluate.

        The terminal transform is not applied: ``rank`` needs a population, and ``signed_log`` is monotone
        per proxy but not for the combined formula, so single-model scoring is exact only for ``none`` and
        ``signed_log`` formulas; ``signed_log`` is applied, ``rank`` raises.
        """
        from evoproxy.proxies import compute  # lazy: sr never imports torch at module level

        if self.transform == "rank":
            raise ValueError("a formula evolved on rank-transformed proxies cannot score a single model")
        if hasattr(model, "to"):
            model = model.to(device)
        vals = compute(model, inputs, targets, names=self.proxies, loss_fn=loss_fn)
        cols = {p: transforms.apply(np.array([vals[p]], dtype=np.float64), self.transform) for p in self.proxies}
        return float(evaluate_ast(self.ast, cols, n=1)[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.ast,
            "text": self.text,
            "sympy": self.sympy_text,
            "latex": self.latex,
            "proxies": self.proxies,
            "size": self.size,
            "transform": self.transform,
        }


def formula_from_run(run: Mapping[str, Any], where: str = "run") -> Formula:
    if "formula" not in run:
        raise ValueError(f"{where}: no 'formula' field (expected a FormulaRun JSON)")
    try:
        f = Formula(ast=run["formula"], run=dict(run), transform=run.get("transform", "none"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return f


def load_formula(path: str | os.PathLike[str]) -> Formula:
    """Load a FormulaRun JSON (or a bare ``{"formula": AST}``) written by ``evoproxy evolve``/``select``."""
    run = read_json(path, "formula file")
    if not isinstance(run, dict):
        raise ValueError(f"{path}: expected a JSON object with a 'formula' field")
    return formula_from_run(run, str(path))
