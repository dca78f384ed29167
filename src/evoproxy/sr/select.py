"""The final proxy of a training set: built from its independent GP runs by the method in their SR config.

- ``final: best``: the run with the best ``rank_runs_by`` score (ties: lowest seed), as the paper does;
- ``final: ensemble``: the calibrated mean (:class:`~evoproxy.sr.ensemble.Ensemble`) of the top ``ensemble_size``
  runs, which cuts the seed-to-seed variance of single formulas on problems they never saw;
- ``final: gated``: that ensemble, gated with one specialist per training problem (the calibrated mean of the same
  runs' champions on that problem) weighted by descriptor similarity (:class:`~evoproxy.sr.gated.Gated`); only the
  specialists that beat the ensemble on the training problems near them are kept, so it needs the training tables.

The result is a FormulaRun (of kind ``formula``, ``ensemble`` or ``gated``) with ``selected_from`` (every candidate's path, seed
and score) and, when the training tables are given, its own per-problem train/test τ and ρ on them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from evoproxy.fileio import read_json
from evoproxy.problems import ProblemTable, SplitConfig, split_part
from evoproxy.sr.config import SRConfig
from evoproxy.sr.engine import per_problem_scores
from evoproxy.sr.ensemble import Ensemble
from evoproxy.sr.formula import Scorer, ast_to_sympy, formula_from_run, scorer_from_run
from evoproxy.sr.gated import Gated, Specialist, transfer_evidence

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


PREDATED_KEYS = {"specialist_metric": "same"}
"""Select-time keys a run file may predate, with what its run did then. A run records its whole config, so a run
without one of these keys is older than it: its specialists were picked by its fitness metric."""


def method_of(runs: Sequence[RunFile]) -> SRConfig:
    """The SR config the runs share, except for the seed (it names how the final proxy is built)."""
    configs = [{**PREDATED_KEYS, **(r.get("config") or {})} for _, r in runs]
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


def specialists(runs: Sequence[RunFile]) -> list[Specialist]:
    """One specialist per training problem: the runs' champions on it, merged like ensemble members, with the
    problem's descriptor (the same in every run: the shared train split)."""
    by_problem: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    fingerprint: dict[str, dict[str, float]] = {}
    for path, r in runs:
        if not isinstance(r.get("specialists"), list):
            raise ValueError(f"{path}: no 'specialists' (final 'gated' needs runs evolved with final: gated)")
        for k, sp in enumerate(r["specialists"]):
            f = formula_from_run({**sp, "transform": r.get("transform", "none")}, f"{path} specialist {k}")
            by_problem.setdefault(sp["problem"], []).append(
                (f, {"seed": r.get("seed"), "source": path, "train_fitness": sp["train_score"]}))
            fingerprint.setdefault(sp["problem"], sp.get("descriptor") or {})
    return [Specialist(pid, _merged(members), fingerprint[pid]) for pid, members in by_problem.items()]


def _gated(general: Ensemble, candidates: list[Specialist], cfg: SRConfig, split: SplitConfig,
           tables: Sequence[ProblemTable] | None) -> tuple[Gated, list[dict[str, Any]]]:
    """The gated proxy of ``general`` and the specialists with positive transfer evidence on the training problems
    near them (:func:`~evoproxy.sr.gated.transfer_evidence`); the others are returned with their evidence."""
    if not tables:
        raise ValueError("select: final 'gated' needs the training tables (select --data DIR) to check on them which "
                         "specialists carry over to the problems near them")
    by_id = {t.id: t for t in tables}
    missing = [s.problem for s in candidates if s.problem not in by_id]
    if missing:
        raise ValueError(f"select: final 'gated': the tables given lack the training problems {missing}")
    parts = {s.problem: split_part(by_id[s.problem], "train", split) for s in candidates}
    evidence = transfer_evidence(general, candidates, parts, cfg.gate_bandwidth, cfg.champion_metric)
    kept = [replace(s, transfer=evidence[s.problem]) for s in candidates if evidence[s.problem]["evidence"] > 0]
    dropped = [{"problem": s.problem, **evidence[s.problem]} for s in candidates if evidence[s.problem]["evidence"] <= 0]
    return Gated.of(general, kept, cfg.gate_bandwidth, cfg.gate_general_weight), dropped


def one_run_proxy(path: str, run: dict[str, Any], tables: Sequence[ProblemTable] | None = None) -> Scorer:
    """The scorer of one seed's run taken alone through its method's final rule (its formula; a one-member ensemble,
    which ranks like it; or the gate built from that run's specialists): what a seed of the method gives."""
    if "config" not in run or "fitness" not in run:  # a bare formula file: nothing to select
        return scorer_from_run(run, path)
    return scorer_from_run(final_proxy([(path, run)], tables, record_scores=False), path)


def final_proxy(runs: Sequence[RunFile], tables: Sequence[ProblemTable] | None = None, *,
                record_scores: bool = True) -> dict[str, Any]:
    """The final proxy of ``runs`` (one training set, one method) as a FormulaRun dict; with ``tables`` (the training
    problems; final 'gated' needs them) and ``record_scores``, also its train/test scores on each of them."""
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
        dropped: list[dict[str, Any]] = []
        if cfg.final == "gated":
            scorer, dropped = _gated(scorer, specialists(top), cfg, split, tables)
        out = {**scorer.to_dict(), "trainset": trainset, "split": split.to_dict(), "config": cfg.to_dict(),
               "seed": [r.get("seed") for _, r in top], "versions": runs[0][1].get("versions", {})}
    out["selected_from"] = candidates
    out["selection"] = {"final": cfg.final, "rank_runs_by": cfg.rank_runs_by,
                        "ensemble_size": cfg.ensemble_size if cfg.final != "best" else 1, "runs": len(runs)}
    if cfg.final == "gated":
        out["selection"]["dropped_specialists"] = dropped
    if tables and record_scores:
        per_problem = {t.id: per_problem_scores(scorer, t, split) for t in tables}
        train = [v["train"]["kendall"] for v in per_problem.values()]
        out["fitness"] = {**(out.get("fitness") or {}), "per_problem": per_problem,
                          "final_train_kendall": float(np.nanmean(train)) if train else float("nan")}
    return out
