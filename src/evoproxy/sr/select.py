"""The final proxy of a training set: built from its independent GP runs by the method in their SR config.

- ``final: best``: the run with the best ``rank_runs_by`` score (ties: lowest seed), as the paper does;
- ``final: ensemble``: the calibrated mean (:class:`~evoproxy.sr.ensemble.Ensemble`) of the top ``ensemble_size``
  runs, which cuts the seed-to-seed variance of single formulas on problems they never saw.

The result is a FormulaRun (of kind ``formula`` or ``ensemble``) with ``selected_from`` (every candidate's path, seed
and score) and, when the training tables are given, its own per-problem train/test τ and ρ on them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from evoproxy.fileio import read_json
from evoproxy.problems import ProblemTable, SplitConfig
from evoproxy.sr.config import SRConfig
from evoproxy.sr.engine import per_problem_scores
from evoproxy.sr.ensemble import Ensemble
from evoproxy.sr.formula import ast_to_sympy, formula_from_run

RunFile = tuple[str, dict[str, Any]]


def read_runs(paths: Sequence[str | os.PathLike[str]]) -> list[RunFile]:
    """The FormulaRuns of ``paths``; each must have a formula and a training fitness."""
    runs = []
    for path in paths:
        r = read_json(path, "run file")
        if not isinstance(r, dict) or "formula" not in r:
            raise ValueError(f"{path}: expected a FormulaRun JSON of 'evoproxy evolve' (no 'formula' field)")
        try:
            float(r["fitness"]["train_fitness"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: no fitness.train_fitness (expected a FormulaRun JSON)") from None
        runs.append((str(path), r))
    if not runs:
        raise ValueError("select: no run files given")
    return runs


def _common(runs: Sequence[RunFile], key: str) -> Any:
    values = {repr(r.get(key)) for _, r in runs}
    if len(values) > 1:
        raise ValueError(f"select: the runs differ in {key!r} ({', '.join(sorted(values))}); "
                         "select builds one final proxy from runs of one training set and method")
    return runs[0][1].get(key)


def method_of(runs: Sequence[RunFile]) -> SRConfig:
    """The SR config the runs share, except for the seed (it names how the final proxy is built)."""
    configs = [{k: v for k, v in (r.get("config") or {}).items()} for _, r in runs]
    if any(c != configs[0] for c in configs[1:]):
        raise ValueError("select: the runs were evolved with different SR configs; give runs of one method")
    return SRConfig.from_dict(configs[0], "run config")


def run_score(run: dict[str, Any], by: str = "train_fitness") -> float:
    """What select ranks a run by: its training fitness, or its validation gain over the best single proxy on the
    problems it held out (comparable across runs that held out different folds)."""
    if by == "validation":
        v = run.get("validation")
        if not v:
            raise ValueError(f"select: run seed {run.get('seed')} has no validation record (evolved with "
                             "validation: none?)")
        return float(v["gain"])
    return float(run["fitness"]["train_fitness"])


def ranked(runs: Sequence[RunFile], by: str = "train_fitness") -> list[RunFile]:
    """Runs best first by ``by`` (ties: lowest seed)."""
    return sorted(runs, key=lambda pr: (-run_score(pr[1], by), int(pr[1].get("seed", 0))))


def maths_key(f: Any) -> tuple[str, str]:
    """What makes two members the same: their terminal transform and their maths, as sympy builds it without
    ``simplify`` (sums and products in canonical order, equal powers combined: ``mul(flops, nwot)``,
    ``mul(nwot, flops)`` and ``div(mul(snip, flops), div(snip, nwot))`` are all ``flops*nwot``). The protected
    operators differ from this maths only where an argument is within ``EPS`` of zero (:mod:`~evoproxy.sr.primitives`)."""
    return f.transform, str(ast_to_sympy(f.ast))


def _merged(members: Sequence[tuple[Any, dict[str, Any]]]) -> Ensemble:
    """An ensemble of equally weighted runs; members with the same maths (:func:`maths_key`) merged into one whose
    weight counts them, written as the group's formula with the fewest proxies, then the fewest nodes (the same
    scores, and no proxy a member only reads to cancel it)."""
    groups: dict[tuple[str, str], list[tuple[Any, dict[str, Any]]]] = {}
    for f, meta in members:
        groups.setdefault(maths_key(f), []).append((f, meta))
    formulas, weights, info = [], [], []
    for group in groups.values():
        f, meta = min(group, key=lambda fm: (len(fm[0].proxies), fm[0].size))
        formulas.append(f)
        weights.append(float(len(group)))
        info.append({"seeds": [m["seed"] for _, m in group], "sources": [m["source"] for _, m in group],
                     "train_fitness": meta["train_fitness"]})
    return Ensemble.of(formulas, weights, info)


def final_proxy(runs: Sequence[RunFile], tables: Sequence[ProblemTable] | None = None) -> dict[str, Any]:
    """The final proxy of ``runs`` (one training set, one method) as a FormulaRun dict."""
    cfg = method_of(runs)
    trainset = _common(runs, "trainset")
    split = SplitConfig.from_dict(_common(runs, "split"), "run 'split'")
    order = ranked(runs, cfg.rank_runs_by)
    candidates = [{"path": p, "seed": r.get("seed"), "train_fitness": r["fitness"]["train_fitness"],
                   "score": run_score(r, cfg.rank_runs_by), "text": r.get("text")} for p, r in order]
    if cfg.final == "best":
        path, best = order[0]
        out = dict(best)
        scorer: Any = formula_from_run(best, path)
        out["selected_path"] = path
    else:
        top = order[: cfg.ensemble_size]
        scorer = _merged([(formula_from_run(r, p), {"seed": r.get("seed"), "source": p,
                                                     "train_fitness": r["fitness"]["train_fitness"]}) for p, r in top])
        out = {**scorer.to_dict(), "trainset": trainset, "split": split.to_dict(), "config": cfg.to_dict(),
               "seed": [r.get("seed") for _, r in top], "versions": runs[0][1].get("versions", {})}
    out["selected_from"] = candidates
    out["selection"] = {"final": cfg.final, "rank_runs_by": cfg.rank_runs_by,
                        "ensemble_size": cfg.ensemble_size if cfg.final == "ensemble" else 1, "runs": len(runs)}
    if tables:
        per_problem = {t.id: per_problem_scores(scorer, t, split) for t in tables}
        train = [v["train"]["kendall"] for v in per_problem.values()]
        out["fitness"] = {**(out.get("fitness") or {}), "per_problem": per_problem,
                          "final_train_kendall": float(np.nanmean(train)) if train else float("nan")}
    return out
