"""Optional PySR backend (``sr.backend: pysr``): the same terminals, operators and rank fitness, via Julia.

``pysr.PySRRegressor`` is run with a custom Julia loss: 1 - mean over training problems of the Spearman rho (rank
correlation without tie averaging) between the tree's output and the target, the problem of each row being passed
through the sample ``weights`` (problem index + 1). Protected ``div``/``log``/``sqrt`` are Julia operators with the
same rules as :mod:`evoproxy.sr.primitives`. The equation with the best loss that uses no numeric constant is
converted to the project's JSON AST, so everything downstream is backend-agnostic.

PySR needs Julia; install with ``pip install -e .[pysr]`` and let PySR install Julia on first use. This backend is
not exercised in this project's CI (no Julia there); its tests skip with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evoproxy.sr import primitives
from evoproxy.sr.config import SRConfig
from evoproxy.sr.fitness import ProblemData, aggregate, score_matrix

JULIA_OPS = {
    "add": ("+", None),
    "sub": ("-", None),
    "mul": ("*", None),
    "div": ("pdiv(x, y) = abs(y) > 1e-10 ? x / y : one(x)", "pdiv"),
    "neg": ("neg", None),
    "log": ("plog(x) = abs(x) > 1e-10 ? log(abs(x)) : zero(x)", "plog"),
    "sqrt": ("psqrt(x) = sqrt(abs(x))", "psqrt"),
    "abs": ("abs", None),
    "square": ("square", None),
    "min": ("min", None),
    "max": ("max", None),
}

RANK_LOSS = """
function rank_loss(tree, dataset::Dataset{T,L}, options)::L where {T,L}
    prediction, flag = eval_tree_array(tree, dataset.X, options)
    !flag && return L(Inf)
    groups = dataset.weights
    total = zero(L)
    k = 0
    for g in unique(groups)
        idx = findall(==(g), groups)
        n = length(idx)
        n < 2 && continue
        rx = L.(invperm(sortperm(prediction[idx])))
        ry = L.(invperm(sortperm(dataset.y[idx])))
        dx = rx .- sum(rx) / n
        dy = ry .- sum(ry) / n
        den = sqrt(sum(dx .^ 2) * sum(dy .^ 2))
        total += den > 0 ? sum(dx .* dy) / den : zero(L)
        k += 1
    end
    return k == 0 ? L(1) : L(1) - total / k
end
"""


class PySRUnavailable(RuntimeError):
    """PySR or Julia is missing."""

    user_error = True


def _import_pysr() -> Any:
    try:
        import pysr  # noqa: PLC0415 - optional extra, imported lazily
    except ImportError as exc:
        raise PySRUnavailable(
            "sr.backend 'pysr' needs the optional extra: pip install -e '.[pysr]' (PySR, and Julia, which PySR "
            f"installs on first use); import failed: {exc}"
        ) from None
    except Exception as exc:  # juliacall raises various errors when Julia cannot be found or installed
        raise PySRUnavailable(f"sr.backend 'pysr': PySR is installed but Julia is not usable: {exc}") from None
    return pysr


def evolve_pysr(cfg: SRConfig, train: Sequence[ProblemData], seed: int) -> dict[str, Any]:
    """Run PySR on the stacked training problems; return the engine's result dict (ast, train_fitness, ...)."""
    import sympy as sp

    from evoproxy.sr.formula import ast_from_sympy

    pysr = _import_pysr()
    terminals = sorted({p for d in train for p in d.columns}) if cfg.terminals == "all" else list(cfg.terminals)
    X = np.concatenate([np.column_stack([d.columns.get(t, np.full(d.n, np.nan)) for t in terminals]) for d in train])
    y = np.concatenate([d.y for d in train])
    w = np.concatenate([np.full(d.n, i + 1.0) for i, d in enumerate(train)])
    X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
    binary = [JULIA_OPS[f][0] for f in cfg.functions if primitives.get(f).arity == 2]
    unary = [JULIA_OPS[f][0] for f in cfg.functions if primitives.get(f).arity == 1]
    sympy_map = {"pdiv": lambda a, b: a / b, "plog": lambda a: sp.log(sp.Abs(a)), "psqrt": lambda a: sp.sqrt(sp.Abs(a))}
    model = pysr.PySRRegressor(
        niterations=max(1, cfg.generations),
        population_size=cfg.population,
        binary_operators=binary,
        unary_operators=unary,
        extra_sympy_mappings=sympy_map,
        loss_function=RANK_LOSS,
        maxdepth=cfg.max_depth,
        complexity_of_constants=1000,
        random_state=seed,
        deterministic=True,
        parallelism="serial",
        progress=False,
        verbosity=0,
    )
    model.fit(X, y, weights=w, variable_names=terminals)
    best_ast, best_loss, candidates = None, np.inf, []
    for _, row in model.equations_.iterrows():
        expr = row["sympy_format"]
        if any(isinstance(a, sp.Number) and a not in (sp.S.NegativeOne,) for a in sp.preorder_traversal(expr)):
            continue
        try:
            ast = ast_from_sympy(expr)
        except ValueError:
            continue
        candidates.append(ast)
        if row["loss"] < best_loss:
            best_ast, best_loss = ast, row["loss"]
    if best_ast is None:
        raise ValueError("PySR returned no constant-free equation convertible to a formula AST")
    fit = aggregate(score_matrix([best_ast], train, cfg.metric), cfg.aggregate)[0]
    history = [{"gen": cfg.generations, "best": float(fit), "mean": float("nan"), "median": float("nan"),
                "mean_size": float("nan"), "best_size": 0, "nevals": 0, "seconds": 0.0}]
    return {"ast": best_ast, "train_fitness": float(fit), "history": history, "pareto": None,
            "terminals": terminals, "candidates": candidates}
