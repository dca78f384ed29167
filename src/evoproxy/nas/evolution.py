"""Search algorithms over any search space: regularized (aging) evolution and random search.

Both work on any object with the small :class:`SearchSpace` interface of :mod:`evoproxy.spaces` (``sample``,
``mutate``) and any :class:`Objective` (an arch -> score callable, higher is better, ``None`` when the arch cannot be
scored, e.g. it is missing from a lookup table). Nothing here knows NB201, proxies or ground truth.

- :func:`aging_evolution`: Real et al. 2019 (regularized evolution): a FIFO population; each step samples
  ``sample_size`` members, mutates the best of them, adds the child and removes the *oldest* member.
- :func:`random_search`: score uniformly sampled archs, keep the best. With a proxy as objective and
  ``budget_evals=N`` this is the "top proxy of N random samples" baseline (NASWOT's N=10/100 protocol); with the
  ``random`` objective it returns a uniformly random architecture.

Budgets: a number of evaluations and/or wall seconds; the search stops at whichever comes first. Every evaluation
counts against ``budget_evals`` (a repeat of an already scored arch is answered from a cache, costs no proxy time,
and still counts, as in NASLib's query-counting). Archs the objective cannot score are skipped and counted
(``skipped``: proposals, ``skipped_unique``: distinct archs), and do not count as evaluations. A
``KeyboardInterrupt`` (SIGINT) ends the search cleanly: the best-so-far result is returned with
``status="interrupted"``. The same seed gives the same sequence of evaluations (the wall-seconds budget
only decides where that sequence is cut).
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from evoproxy.metrics import rank_score
from evoproxy.progress import Progress

MAX_HISTORY = 100_000
"""Per-evaluation history kept in the result (the first this many; the trajectory of improvements is complete)."""

MAX_CONSECUTIVE_SKIPS = 10_000
"""Give up (``status="stalled"``) after this many proposals in a row that the objective cannot score."""


class SearchSpace(Protocol):
    """What a search needs from a space (``evoproxy.spaces`` objects satisfy it)."""

    def sample(self, n: int, seed: int) -> list[str]: ...

    def mutate(self, arch: str, seed: int) -> str: ...


class Objective(Protocol):
    """An arch -> score callable (higher is better; ``None`` = cannot be scored, skip it)."""

    def __call__(self, arch: str) -> float | None: ...


@dataclass
class Budget:
    """Stop after ``evals`` evaluations or ``seconds`` of wall time, whichever comes first."""

    evals: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.evals is None and self.seconds is None:
            raise ValueError("budget: give budget_evals and/or budget_seconds")
        if self.evals is not None and self.evals < 1:
            raise ValueError(f"budget: budget_evals must be >= 1, got {self.evals}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"budget: budget_seconds must be > 0, got {self.seconds}")


@dataclass
class SearchResult:
    """The outcome of one search: best arch, full history, best-so-far trajectory and the time split."""

    algorithm: str
    params: dict[str, Any]
    seed: int
    budget: Budget
    status: str = "running"
    best_arch: str | None = None
    best_score: float = -math.inf
    best_eval: int | None = None
    best_seconds: float | None = None
    history_arch: list[str] = field(default_factory=list)
    history_score: list[float] = field(default_factory=list)
    history_seconds: list[float] = field(default_factory=list)
    trajectory: list[dict[str, Any]] = field(default_factory=list)
    unique_archs: int = 0
    skipped: int = 0
    skipped_unique: int = 0
    wall_seconds: float = 0.0
    objective_seconds: float = 0.0

    evaluations: int = 0

    @property
    def overhead_seconds(self) -> float:
        """Wall time not spent inside the objective (sampling, mutation, selection, bookkeeping)."""
        return max(self.wall_seconds - self.objective_seconds, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "seed": self.seed,
            "budget": {"evals": self.budget.evals, "seconds": self.budget.seconds},
            "status": self.status,
            "best": {"arch": self.best_arch, "score": _json_score(self.best_score), "found_at_eval": self.best_eval,
                     "found_at_seconds": self.best_seconds},
            "evaluations": self.evaluations,
            "unique_archs": self.unique_archs,
            "skipped": self.skipped,
            "skipped_unique": self.skipped_unique,
            "wall_seconds": self.wall_seconds,
            "objective_seconds": self.objective_seconds,
            "overhead_seconds": self.overhead_seconds,
            "trajectory": self.trajectory,
            "history_truncated": self.evaluations > len(self.history_arch),
            "history": {"arch": self.history_arch, "score": [_json_score(s) for s in self.history_score],
                        "seconds": self.history_seconds},
        }


def _json_score(s: float) -> float | None:
    return float(s) if math.isfinite(s) else None


class _BudgetExhausted(Exception):
    """Raised by the evaluator when the budget is spent (internal control flow)."""


class _Evaluator:
    """Wraps the objective: caching, timing, budget, skip counting, history and trajectory."""

    def __init__(self, objective: Objective, result: SearchResult, progress: Progress | None,
                 on_improve: Callable[[SearchResult], None] | None) -> None:
        self.objective, self.result, self.progress, self.on_improve = objective, result, progress, on_improve
        self.cache: dict[str, float | None] = {}
        self.t0 = time.perf_counter()
        self.consecutive_skips = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def check_budget(self) -> None:
        r, b = self.result, self.result.budget
        if b.evals is not None and r.evaluations >= b.evals:
            r.status = "budget_evals"
            raise _BudgetExhausted
        if b.seconds is not None and self.elapsed() >= b.seconds:
            r.status = "budget_seconds"
            raise _BudgetExhausted

    def __call__(self, arch: str) -> float | None:
        """Score ``arch`` (None if skipped); raises :class:`_BudgetExhausted` when no budget is left."""
        self.check_budget()
        r = self.result
        if arch in self.cache:
            score = self.cache[arch]
        else:
            t = time.perf_counter()
            raw = self.objective(arch)
            r.objective_seconds += time.perf_counter() - t
            score = None if raw is None else float(raw)
            self.cache[arch] = score
            if score is None:
                r.skipped_unique += 1
            else:
                r.unique_archs += 1
        if score is None:
            r.skipped += 1
            self.consecutive_skips += 1
            if self.consecutive_skips >= MAX_CONSECUTIVE_SKIPS:
                r.status = "stalled"
                raise _BudgetExhausted
            return None
        self.consecutive_skips = 0
        now = self.elapsed()
        r.evaluations += 1
        if len(r.history_arch) < MAX_HISTORY:
            r.history_arch.append(arch)
            r.history_score.append(score)
            r.history_seconds.append(now)
        if r.best_arch is None or rank_score(score) > rank_score(r.best_score):
            r.best_arch, r.best_score, r.best_eval, r.best_seconds = arch, score, r.evaluations, now
            r.trajectory.append({"eval": r.evaluations, "seconds": now, "score": _json_score(score), "arch": arch})
            if self.on_improve is not None:
                self.on_improve(r)
        if self.progress is not None:
            self.progress.advance(1, best=float(r.best_score), skipped=r.skipped)
        return score


def _run(algorithm: str, params: dict[str, Any], seed: int, budget: Budget, objective: Objective,
         body: Callable[[_Evaluator, np.random.Generator], None], progress: bool,
         on_improve: Callable[[SearchResult], None] | None) -> SearchResult:
    result = SearchResult(algorithm=algorithm, params=params, seed=seed, budget=budget)
    rng = np.random.default_rng(seed)
    with Progress(budget.evals, f"search {algorithm}", unit="evals", enabled=progress) as bar:
        ev = _Evaluator(objective, result, bar, on_improve)
        try:
            body(ev, rng)
        except _BudgetExhausted:
            pass
        except KeyboardInterrupt:
            result.status = "interrupted"
        result.wall_seconds = ev.elapsed()
    return result


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def aging_evolution(space: SearchSpace, objective: Objective, budget: Budget, *, population: int = 20,
                    sample_size: int = 5, seed: int = 0, progress: bool = True,
                    on_improve: Callable[[SearchResult], None] | None = None) -> SearchResult:
    """Regularized (aging) evolution (Real et al. 2019) maximising ``objective`` over ``space``."""
    if population < 1 or not 1 <= sample_size <= population:
        raise ValueError(f"aging evolution: need population >= 1 and 1 <= sample_size <= population, "
                         f"got population={population}, sample_size={sample_size}")
    params = {"population": population, "sample_size": sample_size}

    def body(ev: _Evaluator, rng: np.random.Generator) -> None:
        pop: collections.deque[tuple[str, float]] = collections.deque()
        while len(pop) < population:  # random initial population (skipped archs are re-drawn)
            arch = space.sample(1, seed=_seed(rng))[0]
            score = ev(arch)
            if score is not None:
                pop.append((arch, score))
        while True:
            idx = rng.choice(len(pop), size=sample_size, replace=False)
            parent = max((pop[i] for i in sorted(idx)), key=lambda m: rank_score(m[1]))[0]
            child = space.mutate(parent, seed=_seed(rng))
            score = ev(child)
            if score is None:
                continue
            pop.append((child, score))
            pop.popleft()

    return _run("aging", params, seed, budget, objective, body, progress, on_improve)


def random_search(space: SearchSpace, objective: Objective, budget: Budget, *, seed: int = 0,
                  progress: bool = True, on_improve: Callable[[SearchResult], None] | None = None) -> SearchResult:
    """Random search: score uniformly sampled archs, keep the best ("top proxy of N" with ``budget_evals=N``)."""

    def body(ev: _Evaluator, rng: np.random.Generator) -> None:
        while True:
            ev(space.sample(1, seed=_seed(rng))[0])

    return _run("random", {}, seed, budget, objective, body, progress, on_improve)


ALGORITHMS = ("aging", "random")


def run_search(algorithm: str, space: SearchSpace, objective: Objective, budget: Budget, *, seed: int = 0,
               population: int = 20, sample_size: int = 5, progress: bool = True,
               on_improve: Callable[[SearchResult], None] | None = None) -> SearchResult:
    """Dispatch to :func:`aging_evolution` or :func:`random_search` by name."""
    if algorithm == "aging":
        return aging_evolution(space, objective, budget, population=population, sample_size=sample_size,
                               seed=seed, progress=progress, on_improve=on_improve)
    if algorithm == "random":
        return random_search(space, objective, budget, seed=seed, progress=progress, on_improve=on_improve)
    raise ValueError(f"unknown search algorithm {algorithm!r}; expected one of {ALGORITHMS}")
