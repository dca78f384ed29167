"""The SR configuration (the ``sr:`` config section): every GP setting is a key.

The defaults are read from the config schema (:func:`evoproxy.schema.defaults`), their one definition: the
recommended method. ``preset: paper`` gives the paper's exact method (:data:`evoproxy.methods.PRESETS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from evoproxy.methods import expand_preset
from evoproxy.schema import defaults
from evoproxy.sr import primitives, transforms
from evoproxy.sr.fitness import AGGREGATES, METRICS

SELECTIONS = ("tournament", "lexicase")
FINALS = ("best", "ensemble", "gated")
RUN_RANKINGS = ("train_fitness", "validation")
VALIDATIONS = ("none", "loso", "lopo")

_D = defaults("sr")


@dataclass
class SRConfig:
    preset: str = _D["preset"]  # recommended | paper (evoproxy.methods)
    backend: str = _D["backend"]  # deap | pysr
    population: int = _D["population"]
    generations: int = _D["generations"]
    p_crossover: float = _D["p_crossover"]
    p_subtree: float = _D["p_subtree"]
    p_hoist: float = _D["p_hoist"]
    p_point: float = _D["p_point"]
    p_reproduction: float = _D["p_reproduction"]
    init_min_depth: int = _D["init_min_depth"]
    init_max_depth: int = _D["init_max_depth"]
    max_depth: int = _D["max_depth"]  # offspring deeper than this are rejected (a parent is kept)
    max_size: int = _D["max_size"]  # 0: no size limit; else offspring with more nodes are rejected
    subtree_max_depth: int = _D["subtree_max_depth"]  # depth of the random subtree grown by subtree mutation
    tournament_size: int = _D["tournament_size"]
    selection: str = _D["selection"]  # tournament | lexicase (automatic epsilon-lexicase over the aggregate's cases)
    parsimony: float = _D["parsimony"]  # subtracted from the fitness per node
    elitism: int = _D["elitism"]  # best individuals copied unchanged into the next generation (single-objective)
    distinct_offspring: int = _D["distinct_offspring"]  # redraws of an offspring that repeats a tree of its generation
    masked_proxies: int = _D["masked_proxies"]  # per training problem, a twin case lacking this many proxies
    functions: list[str] = field(default_factory=lambda: list(_D["functions"]))
    terminals: list[str] | str = _D["terminals"]  # "all": every proxy present in at least one training problem
    metric: str = _D["metric"]
    specialist_metric: str = _D["specialist_metric"]  # picks the gated proxy's specialists; "same": metric
    aggregate: str = _D["aggregate"]
    transform: str = _D["transform"]
    multiobjective: bool = _D["multiobjective"]  # NSGA-II on (fitness, -size); the run also stores the Pareto front
    select: str = _D["select"]  # best | knee: which Pareto formula is the run's result (multi-objective)
    hall_of_fame: int = _D["hall_of_fame"]
    validation: str = _D["validation"]  # none | loso | lopo: each run holds out one fold of its training problems
    final: str = _D["final"]  # best | ensemble | gated: what `evoproxy select` builds from a training set's runs
    ensemble_size: int = _D["ensemble_size"]  # final 'ensemble'/'gated': the top this many runs
    gate_bandwidth: float = _D["gate_bandwidth"]  # final 'gated': descriptor distance scale of a specialist's weight
    gate_general_weight: float = _D["gate_general_weight"]  # final 'gated': weight of the general ensemble
    rank_runs_by: str = _D["rank_runs_by"]  # how select orders runs (best run / ensemble members)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, where: str = "sr config") -> SRConfig:
        """The config of ``d``: its preset's keys first, then the keys ``d`` sets; unknown keys are refused."""
        try:
            d = expand_preset(d)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
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
        choices = {"metric": METRICS, "specialist_metric": ("same", *METRICS), "aggregate": AGGREGATES,
                   "transform": transforms.TRANSFORMS, "selection": SELECTIONS, "select": ("best", "knee"),
                   "backend": ("deap", "pysr"), "validation": VALIDATIONS, "final": FINALS,
                   "rank_runs_by": RUN_RANKINGS}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{where}: {key} {getattr(self, key)!r} not in {list(allowed)}")
        if not self.parsimony >= 0:
            raise ValueError(f"{where}: parsimony must be >= 0, got {self.parsimony!r}")
        if not (self.gate_bandwidth > 0 and self.gate_general_weight > 0):
            raise ValueError(f"{where}: gate_bandwidth and gate_general_weight must be > 0")
        if self.masked_proxies < 0:
            raise ValueError(f"{where}: masked_proxies must be >= 0, got {self.masked_proxies!r}")
        if self.masked_proxies and self.backend == "pysr":
            raise ValueError(f"{where}: masked_proxies needs the deap backend (PySR scores its own loss)")
        if self.ensemble_size < 1:
            raise ValueError(f"{where}: ensemble_size must be >= 1, got {self.ensemble_size!r}")
        if self.rank_runs_by == "validation" and self.validation == "none":
            raise ValueError(f"{where}: rank_runs_by 'validation' needs a validation scheme (loso or lopo)")
        if self.population < 2 or self.generations < 0 or self.tournament_size < 1:
            raise ValueError(f"{where}: need population >= 2, generations >= 0, tournament_size >= 1")
        if not 0 <= self.init_min_depth <= self.init_max_depth:
            raise ValueError(f"{where}: need 0 <= init_min_depth <= init_max_depth")

    @property
    def champion_metric(self) -> str:
        """The rank correlation that picks and vouches for the specialists (``specialist_metric``, resolved)."""
        return self.metric if self.specialist_metric == "same" else self.specialist_metric

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
