"""NAS objectives: lookup (skip + count unknown archs), online (only the formula's proxies), random."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evoproxy.nas.evolution import Budget, aging_evolution
from evoproxy.nas.objective import LookupObjective, OnlineObjective, RandomObjective, resolve_objective
from evoproxy.problems import ProblemTable


class SumFormula:
    """A stand-in scorer with the Formula interface: nwot + 2 * synflow."""

    proxies = ("nwot", "synflow")

    def evaluate(self, columns):
        return np.asarray(columns["nwot"]) + 2 * np.asarray(columns["synflow"])


def _table() -> ProblemTable:
    df = pd.DataFrame({
        "arch": ["a", "b", "c", "d"],
        "nwot": [1.0, 2.0, 3.0, np.nan],
        "synflow": [0.5, 0.0, -1.0, 4.0],
        "jacov": [np.nan] * 4,
        "val_accuracy": [90.0, 80.0, 70.0, 60.0],
    })
    return ProblemTable("toy", "task", df)


def test_lookup_scores_skips_and_counts_unknown_archs():
    obj = LookupObjective(SumFormula(), _table())
    assert obj("a") == 2.0 and obj("b") == 2.0 and obj("c") == 1.0
    assert math.isnan(obj("d"))  # a non-finite proxy stays NaN (ranked last by the search)
    assert obj.nonfinite == 1
    assert obj("zz") is None and obj("yy") is None
    assert obj.missing == 2


def test_lookup_rejects_table_without_needed_proxy():
    class Jac:
        proxies = ("jacov",)

        def evaluate(self, columns):
            return columns["jacov"]

    with pytest.raises(ValueError, match=r"toy_table.*lacks \['jacov'\]"):
        LookupObjective(Jac(), _table(), where="toy_table")


def test_lookup_search_counts_skips_in_search_result():
    class Space:
        def sample(self, n, seed):
            return [str(np.random.default_rng(seed).integers(0, 50)) for _ in range(n)]

        def mutate(self, arch, seed):
            return str((int(arch) + int(np.random.default_rng(seed).integers(1, 5))) % 50)

    df = pd.DataFrame({"arch": [str(i) for i in range(0, 50, 3)], "nwot": [float(i) for i in range(0, 50, 3)],
                       "synflow": 0.0, "val_accuracy": 0.0})
    obj = LookupObjective(SumFormula(), ProblemTable("toy", "t", df))
    r = aging_evolution(Space(), obj, Budget(evals=100), population=5, sample_size=2, seed=0, progress=False)
    assert r.skipped_unique == obj.missing > 0
    assert r.skipped >= r.skipped_unique
    assert r.evaluations == 100
    assert r.best_arch == "48"


class FakeEvaluator:
    def __init__(self):
        self.asked = []

    def evaluate(self, arch, names):
        self.asked.append(list(names))
        return {"nwot": float(len(arch)), "synflow": 1.0, "jacov": 99.0}


def test_online_objective_requests_only_formula_proxies():
    ev = FakeEvaluator()
    obj = OnlineObjective(SumFormula(), ev)
    assert obj("abc") == 3.0 + 2.0
    assert ev.asked == [["nwot", "synflow"]]


def test_random_objective_is_seeded_and_uniform():
    a, b = RandomObjective(0), RandomObjective(1)
    assert a("x") == RandomObjective(0)("x") and a("x") != b("x")
    vals = np.array([a(str(i)) for i in range(2000)])
    assert 0 <= vals.min() and vals.max() < 1 and abs(vals.mean() - 0.5) < 0.03


def test_resolve_objective_errors_and_random():
    name, formula, info = resolve_objective("random")
    assert name == "random" and formula is None and info["proxies"] == []
    with pytest.raises(FileNotFoundError, match="neither a proxy name"):
        resolve_objective("no_such_file.json")


def test_resolve_proxy_and_formula_file_match_lookup(tmp_path):
    formula_mod = pytest.importorskip("evoproxy.sr.formula")
    name, formula, info = resolve_objective("nwot")
    assert name == "nwot" and list(formula.proxies) == ["nwot"]
    t = _table()
    obj = LookupObjective(formula, t)
    assert obj("c") == 3.0
    f = formula_mod.Formula.from_ast(["add", ["proxy", "nwot"], ["proxy", "synflow"]])
    obj = LookupObjective(f, t)
    # a formula evaluates the same on one row (online) as on the whole table (lookup)
    ev = FakeEvaluator()
    online = OnlineObjective(f, ev)
    assert online("abc") == pytest.approx(float(f.evaluate({"nwot": np.array([3.0]), "synflow": np.array([1.0])})[0]))
    assert obj("b") == pytest.approx(float(f.evaluate({"nwot": np.array([2.0]), "synflow": np.array([0.0])})[0]))


def test_transforms_lookup_equals_online_and_rank_refused_online():
    formula_mod = pytest.importorskip("evoproxy.sr.formula")
    ast = ["add", ["proxy", "nwot"], ["proxy", "synflow"]]
    f = formula_mod.Formula.from_ast(ast, transform="signed_log")
    t = _table()
    lookup = LookupObjective(f, t)
    online = OnlineObjective(f, FakeEvaluator())  # FakeEvaluator: nwot = len(arch), synflow = 1
    expected = np.log1p(3.0) + np.log1p(1.0)
    assert online("abc") == pytest.approx(expected)
    assert lookup("c") == pytest.approx(np.log1p(3.0) - np.log1p(1.0))  # sign(-1) * log1p(1)
    r = formula_mod.Formula.from_ast(ast, transform="rank")
    assert LookupObjective(r, t)("a") == pytest.approx(1 / 3 + 3 / 4)  # ranks over the table's rows
    with pytest.raises(ValueError, match="rank-transformed"):
        OnlineObjective(r, FakeEvaluator())
