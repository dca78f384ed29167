"""An ensemble of evolved formulas: the calibrated mean of its members' scores.

Each member's output is mapped through the empirical CDF of the same member's outputs on a reference sample (the
evaluated rows when scoring a table; a reference sample of random architectures when scoring one), so every member
contributes on the same [0, 1] scale whatever its formula; the ensemble score is the weighted mean of those values.
A member output that is not finite counts as 0 (it ranks last, the score rule of :mod:`evoproxy.metrics`).

Missing proxies: a calibrated member scores every problem (a proxy the reference lacks takes the neutral value, see
:mod:`evoproxy.sr.transforms`); a member on raw proxies that needs a proxy the reference lacks (absent or all-NaN)
is left out on that problem and the weights of the others are renormalised; only when no member can score a problem
is the result NaN ("–").

FormulaRun of kind ``ensemble`` (what ``evoproxy select`` writes for the recommended method)::

    {"kind": "ensemble", "combine": "ecdf_mean", "members": [{"formula": AST, "transform": "ecdf", "text": ...,
     "proxies": [...], "weight": 1.0, "seed": 0, "source": "run_0.json", ...}, ...], "text", "proxies",
     "calibration": {...}, "split", "trainset", "config", "selection": {...}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evoproxy.sr import transforms
from evoproxy.sr.formula import Columns, Formula, as_columns, compute_proxies, formula_from_run, single_row

KIND = "ensemble"
COMBINE = "ecdf_mean"
CALIBRATION = {
    "member_outputs": "ecdf",
    "reference": "the evaluated rows when scoring a table; for one architecture a reference sample of random "
                 "architectures of the same space and task, which the caller gives",
}


class CalibratedScorer:
    """Scoring one architecture for a scorer calibrated on a population (an ensemble, a gated proxy): through
    ``evaluate_table`` on a one-row table against a reference sample, which it therefore requires."""

    proxies: list[str]

    def evaluate_table(self, table: Columns, reference: Columns | None = None) -> np.ndarray:
        raise NotImplementedError

    def _required(self, reference: Columns | None) -> Columns:
        if reference is None:
            raise ValueError(f"{type(self).__name__.lower()}: needs a reference sample (proxy values of random "
                             "architectures of the same space and task) to score one architecture")
        return reference

    def score_values(self, values: Mapping[str, float], reference: Columns | None = None) -> float:
        """Score one architecture from its proxy values against a ``reference`` sample (required); exactly its row's
        value inside a table scored against the same reference."""
        return float(self.evaluate_table(single_row(values, self.proxies), self._required(reference))[0])

    def score_model(self, model: Any, inputs: Any, targets: Any, device: str = "cpu", loss_fn: Any = None,
                    reference: Columns | None = None) -> float:
        """Score one network: the proxies this scorer reads (computed with torch), then :meth:`score_values`."""
        reference = self._required(reference)  # before any proxy is computed
        return self.score_values(compute_proxies(model, inputs, targets, self.proxies, device, loss_fn), reference)


def _usable(f: Formula, ref: Columns) -> bool:
    """A calibrated (ecdf) member always scores (an absent proxy is neutral); a raw one needs all its proxies."""
    return f.transform == "ecdf" or all(np.isfinite(ref.values(p)).any() for p in f.proxies)


@dataclass
class Ensemble(CalibratedScorer):
    """Weighted calibrated mean of member formulas (see the module docstring)."""

    members: list[Formula]
    weights: list[float]
    run: dict[str, Any] | None = None
    member_info: list[dict[str, Any]] = field(default_factory=list)
    transform = "ecdf"
    """It calibrates against a population, so one architecture needs a reference sample (like an ecdf formula)."""

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        if len(self.weights) != len(self.members) or any(not w > 0 for w in self.weights):
            raise ValueError(f"ensemble: need one positive weight per member, got {self.weights}")

    @property
    def proxies(self) -> list[str]:
        return sorted({p for m in self.members for p in m.proxies})

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)

    @property
    def text(self) -> str:
        return f"{COMBINE}(" + ", ".join(f"{w:g}*{m.text}" for w, m in zip(self.weights, self.members, strict=True)) + ")"

    def usable_members(self, reference: Columns) -> list[int]:
        """Indices of the members whose proxies the reference has."""
        ref = as_columns(reference)
        return [i for i, m in enumerate(self.members) if _usable(m, ref)]

    def evaluate_table(self, table: Columns, reference: Columns | None = None) -> np.ndarray:
        """Ensemble score per row of ``table``, calibrated on ``reference`` (default: the rows of ``table``)."""
        table = as_columns(table)
        ref = table if reference is None else as_columns(reference)
        use = self.usable_members(ref)
        if not use:
            return np.full(table.n, np.nan)
        total = np.zeros(table.n)
        for i in use:
            m = self.members[i]
            out = m.evaluate_table(table, reference=ref)
            cal = transforms.ecdf(out, m.evaluate_table(ref, reference=ref))
            total += self.weights[i] * np.where(np.isfinite(cal), cal, 0.0)
        return total / sum(self.weights[i] for i in use)

    def spec(self) -> dict[str, Any]:
        """The least JSON that rebuilds this ensemble (:func:`~evoproxy.sr.formula.scorer_from_run` reads it)."""
        return {"kind": KIND, "combine": COMBINE,
                "members": [{**m.spec(), "weight": float(w)} for m, w in zip(self.members, self.weights, strict=True)]}

    def to_dict(self) -> dict[str, Any]:
        members = []
        for k, (m, w) in enumerate(zip(self.members, self.weights, strict=True)):
            info = self.member_info[k] if k < len(self.member_info) else {}
            members.append({**m.to_dict(), **info, "weight": float(w)})
        return {"kind": KIND, "combine": COMBINE, "members": members, "text": self.text, "proxies": self.proxies,
                "size": self.size, "transform": self.transform, "calibration": dict(CALIBRATION)}

    @classmethod
    def from_run(cls, run: Mapping[str, Any], where: str = "ensemble") -> Ensemble:
        members = run.get("members")
        if not isinstance(members, list) or not members:
            raise ValueError(f"{where}: an ensemble run needs a non-empty 'members' list")
        if run.get("combine", COMBINE) != COMBINE:
            raise ValueError(f"{where}: unknown combine rule {run.get('combine')!r}; known: {COMBINE}")
        formulas, weights, info = [], [], []
        for k, m in enumerate(members):
            if not isinstance(m, dict):
                raise ValueError(f"{where}: member {k} must be an object with a 'formula'")
            formulas.append(formula_from_run(m, f"{where} member {k}"))
            try:
                weights.append(float(m.get("weight", 1.0)))
            except (TypeError, ValueError):
                raise ValueError(f"{where}: member {k} weight must be a number, got {m.get('weight')!r}") from None
            info.append({k2: v for k2, v in m.items() if k2 not in ("formula", "text", "sympy", "latex", "proxies",
                                                                     "size", "transform", "weight")})
        return cls(formulas, weights, run=dict(run), member_info=info)

    @classmethod
    def of(cls, members: Sequence[Formula], weights: Sequence[float] | None = None,
           info: Sequence[dict[str, Any]] | None = None) -> Ensemble:
        return cls(list(members), list(weights or [1.0] * len(members)), member_info=list(info or []))
