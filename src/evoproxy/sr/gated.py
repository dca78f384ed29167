"""A reference-gated final proxy: the general ensemble of a training set, mixed with per-problem specialists weighted
by how much the scored problem resembles each training problem.

Every training problem has a specialist: the calibrated mean of the trees that scored best on that problem alone in
the training set's GP runs (:meth:`evoproxy.sr.engine.Engine.specialists`; found inside the general runs, at no
extra evaluation), and a label-free descriptor (:mod:`evoproxy.sr.descriptor`: how its proxies rank architectures
relative to each other on its train split). To score rows, the descriptor of the *reference* (the evaluated rows
when scoring a table; a reference sample of random architectures of the same space and task when scoring one) is
compared with each training problem's; a specialist weighs :func:`kernel` ``exp(-(d / bandwidth)^2)`` at RMS
distance ``d`` (0 beyond :data:`CUTOFF` bandwidths), the general ensemble ``general_weight``. Each component's
output is mapped through its ECDF on the reference and the score is the weighted mean.

A specialist is kept only if it carries over on the training problems themselves (:func:`transfer_evidence`, checked
by ``evoproxy select`` with the training tables): weighted by the same kernel, it must beat the general ensemble on
the other training problems near it. A specialist with no near training problem has no evidence and is dropped, so
a problem unlike every training problem that vouched for a specialist (a new search space, say) is scored by the
general ensemble alone; no accuracy of the scored problem is ever used.

FormulaRun of kind ``gated`` (what ``evoproxy select`` writes for ``final: gated``)::

    {"kind": "gated", "general": {ensemble run}, "specialists": [{"problem": pid, "descriptor": {...},
     "ensemble": {ensemble run}}, ...], "gate": {"bandwidth": .15, "general_weight": .25}, "text", "proxies", ...}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from evoproxy.sr import transforms
from evoproxy.sr.descriptor import Descriptor, descriptor_of, distance
from evoproxy.sr.ensemble import CALIBRATION, CalibratedScorer, Ensemble
from evoproxy.sr.fitness import METRICS
from evoproxy.sr.formula import Columns, as_columns

if TYPE_CHECKING:
    from evoproxy.problems import ProblemTable

KIND = "gated"


CUTOFF = 2.0
"""A specialist farther than this many bandwidths from the scored problem weighs 0 (its kernel weight would be under
exp(-4) = .018, and a small weight on a specialist that ranks the problem backwards still costs accuracy)."""


def kernel(d: float, bandwidth: float) -> float:
    """Gate weight at descriptor distance ``d``: ``exp(-(d / bandwidth)^2)``, 0 beyond ``CUTOFF`` bandwidths."""
    return float(np.exp(-((d / bandwidth) ** 2))) if d <= CUTOFF * bandwidth else 0.0


@dataclass
class Specialist:
    """A training problem's specialist ensemble, its descriptor, and the evidence that it carries over
    (:func:`transfer_evidence`, recorded by select)."""

    problem: str
    ensemble: Ensemble
    descriptor: Descriptor
    transfer: dict[str, Any] = field(default_factory=dict)


def transfer_evidence(general: Ensemble, specialists: Sequence[Specialist], train_parts: Mapping[str, ProblemTable],
                      bandwidth: float, metric: str) -> dict[str, dict[str, Any]]:
    """Whether each specialist carries over to the training problems near it: the kernel-weighted sum, over the other
    training problems ``p`` (their train splits, ``train_parts``), of the specialist's ``metric`` on ``p`` less the
    general ensemble's. A specialist with no near neighbour has no evidence (0)."""
    def corr(scores: np.ndarray, y: np.ndarray) -> float:
        return float(METRICS[metric](scores[None, :], y)[0])  # the fitness's own rank correlation

    general_on = {pid: corr(general.evaluate_table(part), part.target) for pid, part in train_parts.items()}
    out = {}
    for s in specialists:
        gains = {}
        for other in specialists:
            w = kernel(distance(s.descriptor, other.descriptor), bandwidth)
            part = train_parts.get(other.problem)
            if other.problem != s.problem and w > 0 and part is not None:
                gains[other.problem] = (w, corr(s.ensemble.evaluate_table(part), part.target) - general_on[other.problem])
        out[s.problem] = {"evidence": float(sum(w * g for w, g in gains.values())),
                          "neighbours": {p: {"weight": w, "gain": g} for p, (w, g) in gains.items()}}
    return out


@dataclass
class Gated(CalibratedScorer):
    """General ensemble + descriptor-gated specialists (see the module docstring)."""

    general: Ensemble
    specialists: list[Specialist]
    bandwidth: float
    general_weight: float
    run: dict[str, Any] | None = None
    transform = "ecdf"
    """It calibrates against a population, so one architecture needs a reference sample (like an ecdf formula)."""

    def __post_init__(self) -> None:
        if not (self.bandwidth > 0 and self.general_weight > 0):
            raise ValueError(f"gated: bandwidth and general_weight must be > 0, got {self.bandwidth}, "
                             f"{self.general_weight}")

    @property
    def proxies(self) -> list[str]:
        return sorted({p for e in (self.general, *(s.ensemble for s in self.specialists)) for p in e.proxies})

    @property
    def size(self) -> int:
        return self.general.size + sum(s.ensemble.size for s in self.specialists)

    @property
    def text(self) -> str:
        return (f"gated({self.general_weight:g}*{self.general.text}; specialists of "
                f"{', '.join(s.problem for s in self.specialists)}; bandwidth {self.bandwidth:g})")

    def gate(self, reference: Columns) -> dict[str, float]:
        """Each specialist's weight for rows calibrated on ``reference`` (problem id -> weight in [0, 1])."""
        d = descriptor_of(as_columns(reference))
        return {s.problem: kernel(distance(d, s.descriptor), self.bandwidth) for s in self.specialists}

    def proxies_for(self, reference: Columns) -> list[str]:
        """The proxies needed to score rows against ``reference``: the general ensemble's and those of the specialists
        the gate weighs above 0 (online NAS computes only these for each candidate)."""
        weights = self.gate(reference)
        active = [s.ensemble for s in self.specialists if weights[s.problem] > 0]
        return sorted({p for e in (self.general, *active) for p in e.proxies})

    def evaluate_table(self, table: Columns, reference: Columns | None = None) -> np.ndarray:
        """Gated score per row of ``table``, calibrated on ``reference`` (default: the rows of ``table``)."""
        table = as_columns(table)
        ref = table if reference is None else as_columns(reference)
        weights = self.gate(ref)
        parts = [(self.general_weight, self.general)]
        parts += [(weights[s.problem], s.ensemble) for s in self.specialists if weights[s.problem] > 0]
        total, weight = np.zeros(table.n), 0.0
        for w, ens in parts:
            on_ref = ens.evaluate_table(ref, reference=ref)
            if not np.isfinite(on_ref).any():
                continue  # no member of this component can score the target's proxies
            cal = transforms.ecdf(ens.evaluate_table(table, reference=ref), on_ref)
            total += w * np.where(np.isfinite(cal), cal, 0.0)
            weight += w
        return total / weight if weight > 0 else np.full(table.n, np.nan)

    def spec(self) -> dict[str, Any]:
        """The least JSON that rebuilds this proxy (:func:`~evoproxy.sr.formula.scorer_from_run` reads it)."""
        return {"kind": KIND, "gate": self._gate_params(), "general": self.general.spec(),
                "specialists": [{"problem": s.problem, "descriptor": s.descriptor, "ensemble": s.ensemble.spec()}
                                for s in self.specialists]}

    def _gate_params(self) -> dict[str, float]:
        return {"bandwidth": float(self.bandwidth), "general_weight": float(self.general_weight)}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "gate": self._gate_params(), "general": self.general.to_dict(),
                "specialists": [{"problem": s.problem, "descriptor": s.descriptor, "ensemble": s.ensemble.to_dict(),
                                 "transfer": s.transfer} for s in self.specialists],
                "text": self.text, "proxies": self.proxies, "size": self.size, "transform": self.transform,
                "calibration": {**CALIBRATION, "gate": "specialist weight exp(-(d/bandwidth)^2), d the RMS distance "
                                "between the reference's descriptor and the specialist problem's"}}

    @classmethod
    def from_run(cls, run: Mapping[str, Any], where: str = "gated") -> Gated:
        gate = run.get("gate") if isinstance(run.get("gate"), Mapping) else {}
        if not isinstance(run.get("general"), Mapping):
            raise ValueError(f"{where}: a gated run needs a 'general' ensemble object")
        specs = run.get("specialists")
        if not isinstance(specs, list):
            raise ValueError(f"{where}: a gated run needs a 'specialists' list")
        specialists = []
        for k, s in enumerate(specs):
            if not isinstance(s, Mapping) or not isinstance(s.get("ensemble"), Mapping) or "problem" not in s:
                raise ValueError(f"{where}: specialist {k} must be an object with 'problem', 'descriptor' and "
                                 "'ensemble'")
            desc = s.get("descriptor")
            if not isinstance(desc, Mapping) or not all(isinstance(v, (int, float)) for v in desc.values()):
                raise ValueError(f"{where}: specialist {k} ({s['problem']}) 'descriptor' must map proxy pairs to "
                                 "numbers")
            specialists.append(Specialist(str(s["problem"]), Ensemble.from_run(s["ensemble"],
                                                                               f"{where} specialist {s['problem']}"),
                                          {str(a): float(b) for a, b in desc.items()}, dict(s.get("transfer") or {})))
        try:
            bandwidth, general_weight = float(gate["bandwidth"]), float(gate["general_weight"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: 'gate' bandwidth and general_weight must be numbers, got {gate}") from None
        return cls(Ensemble.from_run(run["general"], f"{where} general"), specialists, bandwidth, general_weight,
                   run=dict(run))

    @classmethod
    def of(cls, general: Ensemble, specialists: Sequence[Specialist], bandwidth: float,
           general_weight: float) -> Gated:
        return cls(general, list(specialists), bandwidth, general_weight)
