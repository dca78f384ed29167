"""One proxy-guided search from its settings to its result record: objective, search, ground truth.

``SearchSettings`` holds what ``evoproxy search`` parses; :func:`search` runs one seed and returns the record that
:func:`evoproxy.nas.results.write_result` writes. Several seeds reuse the lookup table and the ground truth
(:class:`Searcher`), so one process can run all seeds of an (objective, dataset).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from evoproxy.nas.evolution import Budget, run_search
from evoproxy.nas.objective import (
    REFERENCE_SIZE,
    LookupObjective,
    OnlineObjective,
    RandomObjective,
    resolve_objective,
)
from evoproxy.nas.results import build_record, load_ground_truth

log = logging.getLogger("evoproxy.search")


class SearchError(ValueError):
    """Settings that cannot run a search (shown to the user as one line)."""


@dataclass
class SearchSettings:
    objective: str
    space: str = "nb201"
    dataset: str | None = None
    mode: str = "lookup"
    data: str | None = None
    algorithm: str = "aging"
    population: int = 20
    sample_size: int = 5
    budget_evals: int | None = None
    budget_seconds: float | None = None
    device: str = "auto"
    batch_size: int | None = None
    images: str | None = None
    reference_size: int = REFERENCE_SIZE
    progress: bool = False


class Searcher:
    """Searches of one (space, dataset, objective) for any seed; the table and ground truth are loaded once."""

    def __init__(self, s: SearchSettings) -> None:
        from evoproxy.problems import load_problem
        from evoproxy.spaces import get_space

        if s.budget_evals is None and s.budget_seconds is None:
            raise SearchError("give --budget-evals and/or --budget-seconds")
        self.budget = Budget(evals=s.budget_evals, seconds=s.budget_seconds)
        if s.mode == "lookup" and not s.data:
            raise SearchError("lookup mode needs --data (the folder of ingested tables)")
        self.s = s
        self.space = get_space(s.space)
        self.dataset = s.dataset or self.space.default_task
        self.name, self.formula, self.objective_info = resolve_objective(s.objective)
        self.table = None
        if self.formula is not None and s.mode == "lookup":
            self.table = load_problem(s.data, f"{s.space}/{self.dataset}")
            self.lookup = LookupObjective(self.formula, self.table, where=f"{s.data}/{s.space}__{self.dataset}")
        self.truth = load_ground_truth(s.data, s.space, self.dataset) if s.data else None

    def _online(self, seed: int) -> tuple[OnlineObjective, dict[str, Any]]:
        from evoproxy.data.taskonomy import TASKONOMY_TASKS
        from evoproxy.extract import ProxyEvaluator, needs_data

        s = self.s
        evaluator = ProxyEvaluator(space=self.space, dataset=self.dataset, batch_size=s.batch_size, seed=seed,
                                   device=s.device, data_file=s.images)
        if needs_data(list(self.formula.proxies)):
            if s.images is None and self.dataset in TASKONOMY_TASKS:
                raise SearchError(f"objective {s.objective} uses proxies that need images "
                                  f"({', '.join(self.formula.proxies)}): pass --images with a Taskonomy folder for "
                                  f"{s.space}/{self.dataset}")
            evaluator.inputs  # noqa: B018 - load the minibatch now: a bad --images file fails before the search
        objective = OnlineObjective(self.formula, evaluator, reference_size=s.reference_size, seed=seed)
        info = {"device": str(evaluator.device), "batch_size": evaluator.batch_size, "images": s.images,
                "reference_archs": len(objective.reference_archs),
                "reference_seconds": objective.reference_seconds}
        return objective, info

    def search(self, seed: int) -> dict[str, Any]:
        """Run the search of ``seed`` and return its result record (status ``interrupted`` on Ctrl-C)."""
        s = self.s
        extra: dict[str, Any] = {"args": {**asdict(s), "dataset": self.dataset, "seed": seed}}
        t0 = time.perf_counter()
        if self.formula is None:
            objective: Any = RandomObjective(seed)
        elif s.mode == "lookup":
            objective = self.lookup
            objective.missing = 0
            extra["lookup"] = {"table_archs": self.table.n, "nonfinite_scores": objective.nonfinite}
        else:
            objective, extra["online"] = self._online(seed)
        extra["setup_seconds"] = time.perf_counter() - t0
        log.info("searching %s/%s: objective %s (%s mode), %s, budget %s evals / %s s, seed %d", s.space,
                 self.dataset, self.name, s.mode, s.algorithm, s.budget_evals, s.budget_seconds, seed)
        result = run_search(s.algorithm, self.space, objective, self.budget, seed=seed, population=s.population,
                            sample_size=s.sample_size, progress=s.progress)
        if "lookup" in extra:
            extra["lookup"]["skipped_not_in_table"] = objective.missing
        if "online" in extra:
            extra["online"]["proxy_seconds"] = objective.proxy_seconds
            extra["online"]["nonfinite_scores"] = objective.failures
        return build_record(result, space=s.space, dataset=self.dataset, mode=s.mode,
                            objective={"name": self.name, **self.objective_info}, truth=self.truth, extra=extra)
