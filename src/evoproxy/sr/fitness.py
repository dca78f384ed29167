"""Population fitness: evaluate every tree vectorised over rows, then rank all outputs in one batched call.

Per problem the outputs of the m trees form an (m, n) matrix scored by :func:`evoproxy.metrics.kendall_batch`
(exact tau-b, O(n log n) per row, numba), :func:`evoproxy.metrics.spearman_batch` or
:func:`evoproxy.metrics.topdown_batch` (top-weighted: what a search keeps is the top of the order). Non-finite
outputs rank last (the metrics' documented rule), so a tree producing NaN/inf loses rather than crashing.
Per-problem scores are then aggregated: ``mean`` (paper: every problem weighs the same), ``space_mean`` (every
search space weighs the same; tasks are averaged inside their space), ``min`` or ``mean_minus_std``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evoproxy.metrics import finite_rows, kendall_batch, spearman_batch, topdown_batch
from evoproxy.problems import ProblemTable
from evoproxy.sr import primitives, transforms
from evoproxy.sr.formula import Ast, evaluate_ast


def spearman_topdown_batch(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean of Spearman rho and the top-down correlation: the whole order and its top, weighed alike."""
    return (spearman_batch(X, y) + topdown_batch(X, y)) / 2.0


METRICS = {"kendall": kendall_batch, "spearman": spearman_batch, "topdown": topdown_batch,
           "spearman+topdown": spearman_topdown_batch}
"""The fitness's rank correlations by name (``sr.metric``, ``sr.specialist_metric``)."""
AGGREGATES = ("mean", "space_mean", "min", "mean_minus_std")


@dataclass
class ProblemData:
    """One problem's (transformed) proxy columns and target, ready for batched scoring."""

    pid: str
    columns: dict[str, np.ndarray]
    y: np.ndarray
    absent: float = np.nan
    """Value of a proxy this problem lacks (NaN; the neutral 0.5 under the ecdf transform)."""

    @property
    def n(self) -> int:
        return len(self.y)

    @classmethod
    def from_table(cls, table: ProblemTable, transform: str = "none") -> ProblemData:
        """The table's rows with a finite target (the metrics' target rule), proxies transformed."""
        keep = finite_rows(table.target)
        if not keep.all():
            table = table.subset(keep)
        cols = {p: transforms.apply(table.values(p), transform) for p in table.proxies}
        return cls(table.id, cols, table.target, transforms.absent_value(transform))

    def column(self, name: str) -> np.ndarray:
        """A proxy column; a proxy the problem lacks is :attr:`absent` on every row."""
        col = self.columns.get(name)
        return np.full(self.n, self.absent) if col is None else col


def masked(data: ProblemData, drop: Sequence[str]) -> ProblemData:
    """``data`` with the proxies ``drop`` absent (their :attr:`ProblemData.absent` value on every row): the case of a
    problem that lacks them, scored by the missing-proxy rule."""
    cols = {p: c for p, c in data.columns.items() if p not in drop}
    return ProblemData(f"{data.pid}~no_{'+'.join(drop)}", cols, data.y, data.absent)


def mask_plan(pids: Sequence[str], terminals: Sequence[str], k: int, seed: int) -> dict[str, list[str]]:
    """The ``k`` terminals each problem's masked twin lacks: consecutive blocks of one seeded permutation of the
    terminals taken cyclically, so every terminal is masked in about ``len(pids) * k / len(terminals)`` problems and
    each seed masks differently."""
    k = min(k, len(terminals) - 1)  # a twin keeps at least one terminal
    if k <= 0:
        return {}
    order = [terminals[i] for i in np.random.default_rng([seed, 7]).permutation(len(terminals))]
    return {pid: [order[(i * k + j) % len(order)] for j in range(k)] for i, pid in enumerate(pids)}


def outputs(asts: Sequence[Ast], data: ProblemData) -> np.ndarray:
    """(m, n) matrix of the trees' outputs on one problem."""
    out = np.empty((len(asts), data.n))
    for i, ast in enumerate(asts):
        out[i] = evaluate_ast(ast, data.columns, n=data.n, absent=data.absent)
    return out


def stack(problems: Sequence[ProblemData]) -> ProblemData:
    """All problems' rows in one ProblemData (a proxy a problem lacks is its ``absent`` value on its rows); one problem
    is returned as is.

    Every operator is elementwise and NaN-propagating, so evaluating a tree once on the stacked rows gives exactly the
    per-problem outputs, with a problem that lacks a used proxy all-NaN (the missing-proxy rule; the neutral value
    under ecdf), at a fraction of the Python overhead of one evaluation per problem.
    """
    if len(problems) == 1:
        return problems[0]
    names = sorted({name for d in problems for name in d.columns})
    cols = {name: np.concatenate([d.column(name) for d in problems]) for name in names}
    return ProblemData("+".join(d.pid for d in problems), cols, np.concatenate([d.y for d in problems]),
                       problems[0].absent)


def prefix_outputs(programs: Sequence[Sequence[tuple[str, int]]], data: ProblemData) -> np.ndarray:
    """(m, n) outputs of trees given as prefix programs of ``(name, arity)`` nodes (a proxy has arity 0).

    The engine's fast path: one pass over each program from the end with a value stack, raw ufuncs under a single
    ``np.errstate``; the values are identical to :func:`evoproxy.sr.formula.evaluate_ast` of the same tree.
    """
    raw = {name: p.raw for name, p in primitives.FUNCTIONS.items()}
    absent = np.full(data.n, data.absent)
    out = np.empty((len(programs), data.n))
    with np.errstate(all="ignore"):
        for i, prog in enumerate(programs):
            stack: list[np.ndarray] = []
            for name, arity in reversed(prog):
                if arity == 0:
                    stack.append(data.columns.get(name, absent))
                elif arity == 1:
                    stack.append(raw[name](stack.pop()))
                else:
                    stack.append(raw[name](*[stack.pop() for _ in range(arity)]))
            out[i] = stack[0]
    return out


def score_outputs(out: np.ndarray, problems: Sequence[ProblemData], metric: str = "kendall") -> np.ndarray:
    """(m, P) rank correlations of output rows laid out as the problems' stacked rows (see :func:`stack`)."""
    try:
        fn = METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown fitness metric {metric!r}; expected one of {', '.join(METRICS)}") from None
    res = np.empty((out.shape[0], len(problems)))
    start = 0
    for j, d in enumerate(problems):
        res[:, j] = fn(out[:, start:start + d.n], d.y)
        start += d.n
    return res


def score_matrix(asts: Sequence[Ast], problems: Sequence[ProblemData], metric: str = "kendall") -> np.ndarray:
    """(m, P) rank correlations of every tree on every problem."""
    return score_outputs(outputs(asts, stack(problems)), problems, metric)


def case_groups(pids: Sequence[str], how: str = "mean") -> tuple[np.ndarray, list[str]]:
    """The aggregate's cases: ``(index of each problem's case, case names)``; one case per search space for
    ``space_mean`` (a problem id is ``<space>/<task>``), one per problem otherwise."""
    names = list(dict.fromkeys(p.split("/", 1)[0] for p in pids)) if how == "space_mean" else list(pids)
    key = (lambda p: p.split("/", 1)[0]) if how == "space_mean" else (lambda p: p)
    return np.array([names.index(key(p)) for p in pids]), names


def aggregate(scores: np.ndarray, how: str = "mean", groups: tuple[np.ndarray, list[str]] | None = None) -> np.ndarray:
    """Aggregate (m, P) per-problem scores into one fitness per tree (``groups``: :func:`case_groups`, needed by
    ``space_mean``)."""
    scores = np.atleast_2d(scores)
    if how == "mean":
        return scores.mean(axis=1)
    if how == "space_mean":
        if groups is None:
            raise ValueError("aggregate 'space_mean' needs the problems' search spaces (groups)")
        index, names = groups
        return np.mean([scores[:, index == g].mean(axis=1) for g in range(len(names))], axis=0)
    if how == "min":
        return scores.min(axis=1)
    if how == "mean_minus_std":
        return scores.mean(axis=1) - scores.std(axis=1)
    raise ValueError(f"unknown aggregate {how!r}; expected one of {', '.join(AGGREGATES)}")
