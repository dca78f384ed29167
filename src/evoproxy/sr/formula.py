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
- ``pareto`` (multi-objective runs): list of ``{formula, text, fitness, size}``;
- ``specialists`` (runs of ``final: gated``): per training problem the tree that scored best on it alone, less the
  parsimony penalty, ``{problem, formula, train_score, size, descriptor}`` (:mod:`evoproxy.sr.gated`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np

from evoproxy.fileio import read_json
from evoproxy.sr import primitives, transforms

if TYPE_CHECKING:
    import sympy as sp

    from evoproxy.sr.ensemble import Ensemble
    from evoproxy.sr.gated import Gated

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


def evaluate_ast(ast: Ast, columns: Mapping[str, np.ndarray], n: int | None = None,
                 absent: float = np.nan) -> np.ndarray:
    """Vectorised evaluation; a proxy missing from ``columns`` is ``absent`` (NaN) on every row."""
    if n is None:
        n = len(next(iter(columns.values()))) if columns else 0

    def ev(node: Ast) -> np.ndarray:
        if node[0] == "proxy":
            col = columns.get(node[1])
            return np.full(n, absent) if col is None else np.asarray(col, dtype=np.float64)
        return primitives.FUNCTIONS[node[0]].raw(*(ev(c) for c in node[1:]))

    with np.errstate(all="ignore"):
        out = np.asarray(ev(ast), dtype=np.float64)
    return np.broadcast_to(out, (n,)).copy() if out.shape != (n,) else out


def ast_to_sympy(ast: Ast) -> sp.Expr:
    import sympy as sp

    if ast[0] == "proxy":
        return sp.Symbol(ast[1], real=True)
    return primitives.FUNCTIONS[ast[0]].to_sympy(*(ast_to_sympy(c) for c in ast[1:]))


def ast_from_sympy(expr: sp.Expr) -> Ast:
    """Convert a sympy expression over proxy symbols to an AST (used by the PySR backend)."""
    import sympy as sp

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
            import sympy as sp

            expr = ast_to_sympy(self.ast)
            self._sympy = sp.simplify(expr) if self.size <= SIMPLIFY_MAX_SIZE else expr
        return self._sympy

    @property
    def sympy_text(self) -> str:
        """``str(self.sympy)``; read back from the FormulaRun this formula was loaded from when it stores the form of
        this formula (its stored ``text`` is this one's), because the simplification costs about 0.2 s per formula."""
        run = self.run or {}
        if self._sympy is None and isinstance(run.get("sympy"), str) and run.get("text") == self.text:
            return run["sympy"]
        return str(self.sympy)

    @property
    def latex(self) -> str:
        return _latex(self.ast)

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Formula output per row (raw columns, no transform); missing proxy -> all-NaN."""
        return evaluate_ast(self.ast, columns)

    def evaluate_table(self, table: Columns, reference: Columns | None = None) -> np.ndarray:
        """Formula output per row of ``table`` (a ProblemTable or a mapping of proxy columns), with the run's terminal
        transform applied to its columns; ``ecdf`` is calibrated on ``reference`` (default: the rows of ``table``)."""
        table = as_columns(table)
        ref = table if reference is None else as_columns(reference)
        calibrated = self.transform == "ecdf"
        cols = {p: transforms.apply(table.values(p), self.transform, ref.values(p) if calibrated else None)
                for p in self.proxies}
        return evaluate_ast(self.ast, cols, n=table.n)

    def score_values(self, values: Mapping[str, float], reference: Columns | None = None) -> float:
        """Score one architecture from its proxy values; exactly its row's value inside a table scored against the
        same ``reference`` (required by the ``ecdf`` transform, refused for ``rank``, which needs the table)."""
        return float(self.evaluate_table(single_row(values, self.proxies), self._reference_for_one(reference))[0])

    def _reference_for_one(self, reference: Columns | None) -> Columns | None:
        if self.transform == "rank":
            raise ValueError("a formula evolved on rank-transformed proxies cannot score one architecture (ranks "
                             "need the evaluated table); evolve with transform 'ecdf' and give a reference sample")
        if self.transform == "ecdf" and reference is None:
            raise ValueError("an 'ecdf' formula needs a reference sample (proxy values of random architectures "
                             "of the same space and task) to score one architecture")
        return reference

    def score_model(self, model: Any, inputs: Any, targets: Any, device: str = "cpu", loss_fn: Any = None,
                    reference: Columns | None = None) -> float:
        """Score one network: compute the proxies this formula uses (torch, imported lazily) and evaluate them with
        :meth:`score_values` (``reference``: see there)."""
        self._reference_for_one(reference)
        return self.score_values(compute_proxies(model, inputs, targets, self.proxies, device, loss_fn), reference)

    def spec(self) -> dict[str, Any]:
        """The least JSON that rebuilds this formula (:func:`scorer_from_run` reads it)."""
        return {"kind": "formula", "formula": self.ast, "transform": self.transform}

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


class Columns(Protocol):
    """What a formula reads: a row count and proxy columns (a ProblemTable, or :class:`ColumnTable`)."""

    @property
    def n(self) -> int: ...

    def values(self, proxy: str) -> np.ndarray: ...


@dataclass
class ColumnTable:
    """Proxy columns as a mapping (a proxy that is not a key is all-NaN), shaped like a ProblemTable for formulas."""

    columns: Mapping[str, np.ndarray]
    archs: Sequence[str] = ()
    """The architectures of the rows, where known (e.g. a reference sample)."""

    @property
    def n(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @property
    def proxies(self) -> list[str]:
        return [p for p, v in self.columns.items() if np.isfinite(np.asarray(v, dtype=np.float64)).any()]

    def values(self, proxy: str) -> np.ndarray:
        v = self.columns.get(proxy)
        return np.full(self.n, np.nan) if v is None else np.asarray(v, dtype=np.float64)


def as_columns(obj: Columns | Mapping[str, np.ndarray]) -> Columns:
    """A ProblemTable (or anything with ``n`` and ``values``) as is; a mapping of proxy columns wrapped."""
    return ColumnTable(obj) if isinstance(obj, Mapping) else obj


def single_row(values: Mapping[str, float], proxies: Sequence[str]) -> ColumnTable:
    """One architecture's proxy values as a one-row table (a missing proxy is NaN)."""
    return ColumnTable({p: np.array([float(values.get(p, np.nan))]) for p in proxies})


def compute_proxies(model: Any, inputs: Any, targets: Any, names: Sequence[str], device: str = "cpu",
                    loss_fn: Any = None) -> dict[str, float]:
    """The named proxies of one network (torch, imported lazily: the GP package never imports it at module level)."""
    from evoproxy.proxies import compute

    if hasattr(model, "to"):
        model = model.to(device)
    return compute(model, inputs, targets, names=list(names), loss_fn=loss_fn)


def formula_from_run(run: Mapping[str, Any], where: str = "run") -> Formula:
    if "formula" not in run:
        raise ValueError(f"{where}: no 'formula' field (expected a FormulaRun JSON)")
    try:
        f = Formula(ast=run["formula"], run=dict(run), transform=run.get("transform", "none"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return f


Scorer: TypeAlias = "Formula | Ensemble | Gated"
"""What a FormulaRun scores with (every kind has ``evaluate_table``, ``score_values``, ``score_model``, ``spec``)."""


def scorer_from_run(run: Mapping[str, Any], where: str = "run") -> Scorer:
    """The scorer of a FormulaRun by its ``kind``: a formula, an ensemble, or a gated proxy."""
    kind = run.get("kind", "formula")
    if kind == "ensemble":
        from evoproxy.sr.ensemble import Ensemble

        return Ensemble.from_run(run, where)
    if kind == "gated":
        from evoproxy.sr.gated import Gated

        return Gated.from_run(run, where)
    if kind != "formula":
        raise ValueError(f"{where}: unknown kind {kind!r}; expected 'formula', 'ensemble' or 'gated'")
    return formula_from_run(run, where)


def load_formula(path: str | os.PathLike[str]) -> Scorer:
    """Load a FormulaRun JSON (or a bare ``{"formula": AST}``) written by ``evoproxy evolve``/``select``: a
    :class:`Formula`, an :class:`~evoproxy.sr.ensemble.Ensemble` (kind ``ensemble``) or a
    :class:`~evoproxy.sr.gated.Gated` proxy (kind ``gated``)."""
    run = read_json(path, "formula file")
    if not isinstance(run, dict):
        raise ValueError(f"{path}: expected a JSON object with a 'formula' or 'members' field")
    return scorer_from_run(run, str(path))
