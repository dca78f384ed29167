"""Search algorithms on toy spaces: optimum found, budgets respected, determinism, skips, interruption."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from evoproxy.nas.evolution import Budget, aging_evolution, random_search, run_search


class BitSpace:
    """Bit strings of length ``n``; mutation flips one bit. Not NB201: the engine must be space-agnostic."""

    def __init__(self, n: int = 10) -> None:
        self.n = n

    def sample(self, n: int, seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        return ["".join(map(str, rng.integers(0, 2, self.n))) for _ in range(n)]

    def mutate(self, arch: str, seed: int) -> str:
        i = int(np.random.default_rng(seed).integers(self.n))
        return arch[:i] + ("1" if arch[i] == "0" else "0") + arch[i + 1 :]

    def size(self) -> int:
        return 2**self.n


def trap(arch: str) -> float:
    """Unique optimum 1111111111 (score 10); ones count elsewhere, with a bump to make it non-trivial."""
    k = arch.count("1")
    return float(k) + (0.5 if arch.startswith("10") else 0.0)


def test_aging_evolution_finds_optimum_of_small_space():
    space = BitSpace(10)
    hits = 0
    for seed in range(5):
        r = aging_evolution(space, trap, Budget(evals=400), population=20, sample_size=5, seed=seed, progress=False)
        assert r.evaluations == 400
        assert r.status == "budget_evals"
        hits += r.best_arch == "1" * 10
        assert r.best_score == max(r.history_score)
    assert hits == 5


def test_aging_beats_random_search_on_average():
    space = BitSpace(16)
    onemax = lambda a: float(a.count("1"))  # noqa: E731
    ae = [aging_evolution(space, onemax, Budget(evals=300), seed=s, progress=False).best_score for s in range(5)]
    rs = [random_search(space, onemax, Budget(evals=300), seed=s, progress=False).best_score for s in range(5)]
    assert np.mean(ae) > np.mean(rs)
    assert min(ae) == 16.0


def test_same_seed_same_trajectory_and_different_seed_differs():
    space = BitSpace(12)
    f = lambda a: float(int(a, 2) % 97)  # noqa: E731
    a = aging_evolution(space, f, Budget(evals=150), seed=3, progress=False)
    b = aging_evolution(space, f, Budget(evals=150), seed=3, progress=False)
    c = aging_evolution(space, f, Budget(evals=150), seed=4, progress=False)
    assert a.history_arch == b.history_arch and a.trajectory[-1]["arch"] == b.trajectory[-1]["arch"]
    assert [t["eval"] for t in a.trajectory] == [t["eval"] for t in b.trajectory]
    assert a.history_arch != c.history_arch


def test_eval_budget_exact_and_seconds_budget_respected():
    space = BitSpace(12)

    def slow(arch: str) -> float:
        time.sleep(0.01)
        return float(arch.count("1"))

    r = aging_evolution(space, slow, Budget(evals=10_000, seconds=0.3), seed=0, progress=False)
    assert r.status == "budget_seconds"
    assert 0.3 <= r.wall_seconds < 0.3 + 0.2  # stops within one evaluation of the limit
    assert 5 < r.evaluations < 40
    assert r.objective_seconds > 0.8 * (r.evaluations * 0.01 - 0.01)
    assert math.isclose(r.overhead_seconds, r.wall_seconds - r.objective_seconds)
    r2 = random_search(space, slow, Budget(evals=7), seed=0, progress=False)
    assert r2.evaluations == 7 and r2.status == "budget_evals"
    # the seconds-limited run is a prefix of the same-seed eval-limited run
    r3 = aging_evolution(space, slow, Budget(evals=r.evaluations), seed=0, progress=False)
    assert r3.history_arch == r.history_arch


def test_repeats_are_cached_but_counted():
    calls = []

    def f(arch: str) -> float:
        calls.append(arch)
        return float(arch.count("1"))

    r = aging_evolution(BitSpace(4), f, Budget(evals=200), seed=0, progress=False)
    assert r.evaluations == 200
    assert len(calls) == r.unique_archs == len(set(r.history_arch)) <= 16


def test_unscorable_archs_are_skipped_and_counted():
    known = {}

    def partial(arch: str) -> float | None:
        if arch.endswith("0"):  # half of the space is "not in the table"
            return None
        known[arch] = True
        return float(arch.count("1"))

    r = aging_evolution(BitSpace(8), partial, Budget(evals=100), seed=1, progress=False)
    assert r.evaluations == 100
    assert r.skipped > 0
    assert all(a.endswith("1") for a in r.history_arch)
    assert r.best_arch == "1" * 8


def test_stalls_when_nothing_can_be_scored():
    r = random_search(BitSpace(8), lambda a: None, Budget(evals=10), seed=0, progress=False)
    assert r.status == "stalled" and r.evaluations == 0 and r.best_arch is None


def test_nonfinite_scores_rank_last():
    f = lambda a: math.nan if a.count("1") > 5 else float(a.count("1"))  # noqa: E731
    r = aging_evolution(BitSpace(8), f, Budget(evals=300), seed=0, progress=False)
    assert r.best_score == 5.0


def test_keyboard_interrupt_returns_best_so_far():
    n = {"i": 0}

    def f(arch: str) -> float:
        n["i"] += 1
        if n["i"] == 50:
            raise KeyboardInterrupt
        return float(arch.count("1"))

    r = aging_evolution(BitSpace(10), f, Budget(evals=1000), seed=0, progress=False)
    assert r.status == "interrupted"
    assert r.unique_archs == 49 and r.evaluations >= 49
    assert r.best_score == max(r.history_score)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="budget_evals and/or budget_seconds"):
        Budget()
    with pytest.raises(ValueError, match="sample_size"):
        aging_evolution(BitSpace(4), trap, Budget(evals=5), population=3, sample_size=4)
    with pytest.raises(ValueError, match="unknown search algorithm"):
        run_search("bogus", BitSpace(4), trap, Budget(evals=5))


def test_history_is_capped_but_evaluations_and_trajectory_complete(monkeypatch):
    import evoproxy.nas.evolution as evo

    monkeypatch.setattr(evo, "MAX_HISTORY", 50)
    r = aging_evolution(BitSpace(12), trap, Budget(evals=400), seed=0, progress=False)
    assert r.evaluations == 400 and len(r.history_arch) == 50
    d = r.to_dict()
    assert d["history_truncated"] and d["evaluations"] == 400
    assert d["trajectory"][-1]["eval"] == r.best_eval <= 400
