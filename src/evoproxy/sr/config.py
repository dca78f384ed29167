"""The SR configuration (the ``sr:`` config section): every GP setting is a key; defaults are the paper's."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from evoproxy.sr import primitives, transforms
from evoproxy.sr.fitness import AGGREGATES, METRICS

SELECTIONS = ("tournament", "lexicase")
FINALS = ("best", "ensemble")
RUN_RANKINGS = ("train_fitness", "validation")
VALIDATIONS = ("none", "loso", "lopo")


@dataclass
class SRConfig:
    backend: str = "deap"  # deap | pysr
    population: int = 100
    generations: int = 50
    p_crossover: float = 0.7
    p_subtree: float = 0.1
    p_hoist: float = 0.05
    p_point: float = 0.1
    p_reproduction: float = 0.05
    init_min_depth: int = 2
    init_max_depth: int = 10
    max_depth: int = 6  # offspring deeper than this are rejected (the parent is kept)
    max_size: int = 0  # 0: no size limit; else offspring with more nodes are rejected
    subtree_max_depth: int = 2  # depth of the random subtree grown by subtree mutation
    tournament_size: int = 7
    selection: str = "tournament"  # tournament | lexicase (automatic epsilon-lexicase over the aggregate's cases)
    parsimony: float = 0.0  # subtracted from the fitness per node (0: none)
    elitism: int = 1  # best individuals copied unchanged into the next generation (single-objective)
    functions: list[str] = field(default_factory=lambda: list(primitives.PAPER_FUNCTIONS))
    terminals: list[str] | str = "all"  # "all": every proxy present in at least one training problem
    metric: str = "kendall"
    aggregate: str = "mean"
    transform: str = "none"
    multiobjective: bool = False  # NSGA-II on (fitness, -size); the run also stores the Pareto front
    select: str = "best"  # best | knee: which Pareto formula is the run's result (multi-objective)
    hall_of_fame: int = 10
    validation: str = "none"  # none | loso | lopo: each run holds out one fold of its training problems
    final: str = "best"  # best | ensemble: what `evoproxy select` builds from a training set's runs
    ensemble_size: int = 5  # final 'ensemble': the top this many runs
    rank_runs_by: str = "train_fitness"  # how select orders runs (best run / ensemble members)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, where: str = "sr config") -> SRConfig:
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(names)}")
        cfg = cls(**d)
        cfg.check(where)
        return cfg

    def check(self, where: str = "sr config") -> None:
        probs = [self.p_crossover, self.p_subtree, self.p_hoist, self.p_point, self.p_reproduction]
        if any(p < 0 for p in probs) or sum(probs) <= 0:
            raise ValueError(f"{where}: operator probabilities must be >= 0 with a positive sum, got {probs}")
        for f in self.functions:
            primitives.get(f)
        if self.metric not in METRICS:
            raise ValueError(f"{where}: metric {self.metric!r} not in {list(METRICS)}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"{where}: aggregate {self.aggregate!r} not in {list(AGGREGATES)}")
        if self.transform not in transforms.TRANSFORMS:
            raise ValueError(f"{where}: transform {self.transform!r} not in {list(transforms.TRANSFORMS)}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"{where}: selection {self.selection!r} not in {list(SELECTIONS)}")
        if not self.parsimony >= 0:
            raise ValueError(f"{where}: parsimony must be >= 0, got {self.parsimony!r}")
        if self.validation not in VALIDATIONS:
            raise ValueError(f"{where}: validation {self.validation!r} not in {list(VALIDATIONS)}")
        if self.rank_runs_by == "validation" and self.validation == "none":
            raise ValueError(f"{where}: rank_runs_by 'validation' needs a validation scheme (loso or lopo)")
        if self.final not in FINALS:
            raise ValueError(f"{where}: final {self.final!r} not in {list(FINALS)}")
        if self.ensemble_size < 1:
            raise ValueError(f"{where}: ensemble_size must be >= 1, got {self.ensemble_size!r}")
        if self.rank_runs_by not in RUN_RANKINGS:
            raise ValueError(f"{where}: rank_runs_by {self.rank_runs_by!r} not in {list(RUN_RANKINGS)}")
        if self.select not in ("best", "knee"):
            raise ValueError(f"{where}: select must be 'best' or 'knee', got {self.select!r}")
        if self.backend not in ("deap", "pysr"):
            raise ValueError(f"{where}: backend must be 'deap' or 'pysr', got {self.backend!r}")
        if self.population < 2 or self.generations < 0 or self.tournament_size < 1:
            raise ValueError(f"{where}: need population >= 2, generations >= 0, tournament_size >= 1")
        if not 0 <= self.init_min_depth <= self.init_max_depth:
            raise ValueError(f"{where}: need 0 <= init_min_depth <= init_max_depth")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
