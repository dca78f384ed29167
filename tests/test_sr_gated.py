"""The reference-gated final proxy (final: gated): specialists found inside the GP runs, the descriptor gate, one
architecture scored like its row, JSON round trip, and the errors of bad runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sr_engine import make_table
from test_sr_methods import assert_one_arch_scores_like_its_row, evolve_and_select

from evoproxy.cli import main
from evoproxy.evaluate import evaluate_file
from evoproxy.methods import PAPER_FUNCTIONS
from evoproxy.metrics import kendall, spearman, topdown_batch
from evoproxy.nas.objective import LookupObjective, OnlineObjective
from evoproxy.problems import ProblemTable, split
from evoproxy.sr import transforms
from evoproxy.sr.config import SRConfig
from evoproxy.sr.descriptor import descriptor
from evoproxy.sr.engine import evolve, specialists_among
from evoproxy.sr.fitness import ProblemData
from evoproxy.sr.formula import ColumnTable, Formula, load_formula, scorer_from_run
from evoproxy.sr.gated import Gated
from evoproxy.sr.select import final_proxy, one_run_proxy

TINY = {"population": 30, "generations": 4, "init_max_depth": 3, "transform": "ecdf"}


def _structured(space: str, task: str, kind: str, seed: int, n: int = 300) -> ProblemTable:
    """Two kinds of problem in conflict: nwot and flops disagree in both, and accuracy follows nwot on kind ``a`` and
    flops on kind ``b``; jacov tracks nwot only on ``b`` (``far``: no structure at all). The kinds are told apart by how
    their proxies correlate, without labels."""
    rng = np.random.default_rng(seed)
    nwot = rng.normal(0, 1, n)
    flops = -nwot + rng.normal(0, 0.5, n) if kind != "far" else rng.normal(0, 1, n)
    jacov = nwot + rng.normal(0, 1, n) if kind == "b" else rng.normal(0, 1, n)
    df = pd.DataFrame({"arch": [f"{space}-{task}-{i}" for i in range(n)], "nwot": nwot, "flops": flops,
                       "snip": rng.normal(0, 1, n), "jacov": jacov})
    df["val_accuracy"] = (nwot if kind == "a" else flops) + rng.normal(0, 0.3, n)
    return ProblemTable(space, task, df)


def _kinds() -> list[ProblemTable]:
    """Two problems of each conflicting kind, and one with no structure (no neighbour to show it carries over)."""
    return [_structured("sa", "a1", "a", 0), _structured("sa", "a2", "a", 1), _structured("sb", "b1", "b", 2),
            _structured("sb", "b2", "b", 3), _structured("sf", "f", "far", 4)]


def _gated_runs(tables: list[ProblemTable], seeds: range, **sr) -> list[tuple[str, dict]]:
    cfg = {**TINY, "final": "gated", "ensemble_size": len(seeds), **sr}
    return [(f"run_{s}.json", evolve(tables, cfg, seed=s, split_cfg={"n_train": 100})) for s in seeds]


def test_specialists_are_found_inside_the_same_run_and_leave_its_formula_unchanged() -> None:
    tables = [make_table("nb201", "cifar10", 200, 0), make_table("nb101", "cifar10", 150, 1)]
    gated = evolve(tables, {**TINY, "final": "gated", "specialist_metric": "same"}, seed=3, split_cfg={"n_train": 80})
    plain = evolve(tables, {**TINY, "final": "ensemble"}, seed=3, split_cfg={"n_train": 80})
    assert gated["formula"] == plain["formula"] and "specialists" not in plain
    assert [s["problem"] for s in gated["specialists"]] == ["nb201/cifar10", "nb101/cifar10"]
    penalty, metric = gated["config"]["parsimony"], gated["config"]["metric"]
    general = Formula.from_ast(gated["formula"], transform="ecdf")
    for sp in gated["specialists"]:
        f = Formula.from_ast(sp["formula"], transform="ecdf")
        train = split([t for t in tables if t.id == sp["problem"]][0], 80, 0, 0.5)[0]
        assert metric == "spearman" and sp["train_score"] == pytest.approx(spearman(f.evaluate_table(train),
                                                                                    train.target), abs=1e-9)
        # the champion beats (or ties) every tree the run scored there, the run's own formula included
        general_there = gated["fitness"]["per_problem"][sp["problem"]]["train"]["spearman"]
        assert sp["train_score"] - penalty * sp["size"] >= general_there - penalty * general.size - 1e-9
        assert sp["size"] == f.size
        assert sp["descriptor"] == pytest.approx(descriptor({p: train.values(p) for p in train.proxies}))
        assert len(sp["descriptor"]) == 6  # every pair of the four proxies


def test_the_gate_picks_the_specialists_of_the_problems_the_target_resembles() -> None:
    tables = _kinds()
    # the paper's functions (no min/max) and repeated offspring allowed: a general formula that cannot serve both
    # kinds at once, so what the specialists add shows
    run = final_proxy(_gated_runs(tables, range(3), functions=list(PAPER_FUNCTIONS), distinct_offspring=0,
                                  parsimony=0.002), tables)
    proxy = scorer_from_run(run)
    assert isinstance(proxy, Gated)
    # a specialist is kept when it beats the general ensemble on its near neighbours; the lone problem has none
    assert {s.problem for s in proxy.specialists} == {"sa/a1", "sa/a2", "sb/b1", "sb/b2"}
    assert run["selection"]["dropped_specialists"] == [{"problem": "sf/f", "evidence": 0.0, "neighbours": {}}]
    assert all(s.transfer["evidence"] > 0 and s.transfer["neighbours"] for s in proxy.specialists)
    target = _structured("sc", "new", "b", 7)  # never seen; its proxies correlate like sb's
    weights = proxy.gate(target)
    assert min(weights["sb/b1"], weights["sb/b2"]) > 0.5 and max(weights["sa/a1"], weights["sa/a2"]) == 0.0
    gated_tau = kendall(proxy.evaluate_table(target), target.target)
    general_tau = kendall(proxy.general.evaluate_table(target), target.target)
    assert gated_tau > general_tau + 0.1 and gated_tau > 0.5
    # a target far from every training problem is scored by the general ensemble alone (the same ranking), and so
    # is one whose reference is too small for a descriptor
    for far in (_structured("sd", "far", "far", 9), _structured("sc", "few", "b", 8, n=5)):
        assert max(proxy.gate(far).values()) == 0.0
        np.testing.assert_array_equal(proxy.evaluate_table(far), transforms.ecdf(proxy.general.evaluate_table(far),
                                                                                 proxy.general.evaluate_table(far)))


def test_gated_round_trips_and_scores_one_architecture_like_its_row(tmp_path: Path) -> None:
    sr = {**TINY, "final": "gated", "ensemble_size": 2}
    d, _, best = evolve_and_select(tmp_path, _kinds(), range(3), sr, 100)
    saved = json.loads(best.read_text())
    assert saved["kind"] == "gated" and saved["gate"] == {"bandwidth": 0.15, "general_weight": 0.25}
    assert [s["problem"] for s in saved["specialists"]] == ["sa/a1", "sa/a2", "sb/b1", "sb/b2"]
    assert len(saved["seed"]) == 2 and len(saved["fitness"]["per_problem"]) == 5
    proxy = load_formula(best)
    assert isinstance(proxy, Gated)
    table = _structured("sb", "b1", "b", 2)
    test = split(table, 100, 0, 0.5)[1]
    x = proxy.evaluate_table(test)
    for again in (Gated.from_run(json.loads(json.dumps(proxy.to_dict()))), scorer_from_run(proxy.spec())):
        np.testing.assert_array_equal(x, again.evaluate_table(test))
    assert main(["score", "--formula", str(best), "--data", str(d), "--out", str(tmp_path / "s.parquet")]) == 0
    s = pd.read_parquet(tmp_path / "s.parquet").set_index("problem").loc["sb/b1"]
    assert s["kendall"] == pytest.approx(kendall(x, test.target), abs=1e-12)
    woken = json.loads(s["gate"])  # which specialists the gate woke on the scored rows, for the user to see
    assert woken == pytest.approx({k: round(w, 4) for k, w in proxy.gate(test).items() if w > 0}) and "sb/b1" in woken
    lookup = LookupObjective(proxy, table)
    np.testing.assert_allclose([lookup(a) for a in table.df["arch"]], proxy.evaluate_table(table))
    reference = split(table, 100, 0, 0.5)[0]
    assert proxy.gate(reference)["sb/b1"] > 0.5  # the specialists take part
    assert_one_arch_scores_like_its_row(proxy, test, reference)


def test_bad_gated_runs_and_configs_are_refused() -> None:
    tables = [make_table("nb201", "cifar10", 120, 0)]
    plain = evolve(tables, {**TINY, "final": "gated"}, seed=0, split_cfg={"n_train": 60})
    plain["config"]["final"] = "gated"
    del plain["specialists"]
    with pytest.raises(ValueError, match="no 'specialists'"):
        final_proxy([("run_0.json", plain)], tables)
    with pytest.raises(ValueError, match="gate_bandwidth"):
        SRConfig.from_dict({"final": "gated", "gate_bandwidth": 0})
    with pytest.raises(ValueError, match="'general' ensemble"):
        scorer_from_run({"kind": "gated", "specialists": []}, "g.json")
    kinds = _kinds()
    runs = _gated_runs(kinds, range(1))
    with pytest.raises(ValueError, match=r"needs the training tables \(select --data DIR\)"):
        final_proxy(runs)
    with pytest.raises(ValueError, match=r"lack the training problems \['sf/f'\]"):
        final_proxy(runs, kinds[:4])
    good = final_proxy(runs, kinds)
    bad = {**good, "specialists": [{**good["specialists"][0], "descriptor": {"nwot|flops": "high"}}]}
    with pytest.raises(ValueError, match=r"g.json: specialist 0 \(sa/a1\) 'descriptor'"):
        scorer_from_run(bad, "g.json")
    with pytest.raises(ValueError, match="'gate' bandwidth"):
        scorer_from_run({**good, "gate": {}}, "g.json")


class TableEvaluator:
    """Proxy values looked up in a table, like an online evaluator; records which proxies each call asked for."""

    def __init__(self, table: ProblemTable) -> None:
        self.df, self.asked = table.df.set_index("arch"), []

    def evaluate(self, arch: str, names: list[str]) -> dict[str, float]:
        self.asked.append(list(names))
        return {p: float(self.df.at[arch, p]) for p in names}

    def reference_sample(self, n: int, names: list[str], seed: int = 0) -> ColumnTable:
        archs = list(self.df.index[:n])
        return ColumnTable({p: self.df.loc[archs, p].to_numpy(dtype=float) for p in names}, archs)


def test_online_nas_computes_only_the_proxies_of_the_components_the_gate_wakes() -> None:
    tables = _kinds()
    proxy = scorer_from_run(final_proxy(_gated_runs(tables, range(3)), tables))
    space = _structured("sc", "new", "b", 7)
    ev = TableEvaluator(space)
    online = OnlineObjective(proxy, ev, reference_size=64)
    assert online.proxies == proxy.proxies_for(online.reference)
    woken = {s.problem for s in proxy.specialists if proxy.gate(online.reference)[s.problem] > 0}
    assert woken == {"sb/b1", "sb/b2"}
    assert set(online.proxies) == {p for s in proxy.specialists if s.problem in woken for p in s.ensemble.proxies} | set(
        proxy.general.proxies)
    arch = str(space.df.at[100, "arch"])
    row = proxy.evaluate_table(space.subset(space.df["arch"] == arch), reference=online.reference)
    assert online(arch) == row[0] and ev.asked[-1] == online.proxies


def test_specialists_among_candidates_for_backends_that_return_candidates() -> None:
    """(PySR returns its candidate equations, not every tree it scored: the champions are chosen among them.)"""
    data = [ProblemData.from_table(t, "ecdf") for t in (_structured("sa", "a1", "a", 0), _structured("sb", "b1", "b", 2))]
    asts = [["proxy", "nwot"], ["proxy", "flops"], ["add", ["proxy", "flops"], ["proxy", "snip"]]]
    got = specialists_among(asts, data, SRConfig(specialist_metric="same"))
    assert [(s["problem"], s["formula"], s["size"]) for s in got] == [("sa/a1", asts[0], 1), ("sb/b1", asts[1], 1)]
    assert got[0]["train_score"] == pytest.approx(spearman(data[0].columns["nwot"], data[0].y))


def _top_versus_overall(seed: int, n: int = 300) -> ProblemTable:
    """nwot orders the whole problem well but scrambles its 30 best architectures below others; flops is noisy
    everywhere but puts exactly those 30 on top in order (what a search keeps)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    r = np.argsort(np.argsort(y)).astype(float)
    top = r >= n - 30
    nwot = r + rng.normal(0, 20, n)
    nwot[top] = n - 90 + rng.permutation(30)
    flops = r + rng.normal(0, 80, n)
    flops[top] = r[top] + 1000
    df = pd.DataFrame({"arch": [f"t{seed}-{i}" for i in range(n)], "nwot": nwot, "flops": flops, "val_accuracy": y})
    return ProblemTable("sa", f"t{seed}", df)


def test_specialist_metric_picks_the_specialist_that_orders_the_top() -> None:
    data = [ProblemData.from_table(_top_versus_overall(0), "ecdf")]
    asts = [["proxy", "nwot"], ["proxy", "flops"]]
    x = np.stack([data[0].columns["nwot"], data[0].columns["flops"]])
    assert spearman(x[0], data[0].y) > spearman(x[1], data[0].y)  # nwot ranks better overall
    td = topdown_batch(x, data[0].y)
    assert td[1] > td[0]  # flops ranks the top better
    assert specialists_among(asts, data, SRConfig(specialist_metric="same"))[0]["formula"] == asts[0]  # Spearman
    got = specialists_among(asts, data, SRConfig())[0]  # the default: top-down
    assert got["formula"] == asts[1] and got["train_score"] == pytest.approx(td[1])


def test_specialist_metric_adds_a_search_and_changes_only_the_specialists() -> None:
    tables = [_top_versus_overall(0), _top_versus_overall(1)]
    cfg = {**TINY, "final": "gated", "functions": ["add", "mul"]}
    same = evolve(tables, {**cfg, "specialist_metric": "same"}, seed=2, split_cfg={"n_train": 150})
    top = evolve(tables, {**cfg, "specialist_metric": "topdown"}, seed=2, split_cfg={"n_train": 150})
    alone = evolve(tables, {**cfg, "metric": "topdown", "specialist_metric": "same"}, seed=2,
                   split_cfg={"n_train": 150})  # the second search
    assert top["formula"] == same["formula"] and top["fitness"]["train_fitness"] == same["fitness"]["train_fitness"]
    again = evolve(tables, {**cfg, "specialist_metric": "topdown"}, seed=2, split_cfg={"n_train": 150})
    assert again["specialists"] == top["specialists"]  # the second search is seeded too
    penalty = top["config"]["parsimony"]

    def adjusted_topdown(sp: dict, train: ProblemTable) -> float:
        f = Formula.from_ast(sp["formula"], transform="ecdf")
        return topdown_batch(f.evaluate_table(train)[None], train.target)[0] - penalty * f.size

    for sp in top["specialists"]:
        train = split([t for t in tables if t.id == sp["problem"]][0], 150, 0, 0.5)[0]
        assert sp["search"] in ("fitness", "specialist")
        assert sp["train_score"] - penalty * sp["size"] == pytest.approx(adjusted_topdown(sp, train))
        # the better of both searches' champions on the top of its problem
        for other in (same, alone):
            rival = next(s for s in other["specialists"] if s["problem"] == sp["problem"])
            assert adjusted_topdown(sp, train) >= adjusted_topdown(rival, train) - 1e-9
    assert {sp["search"] for sp in top["specialists"]} == {"specialist"}  # flops's exact top wins on both problems


def test_a_run_older_than_specialist_metric_selects_as_it_was_evolved() -> None:
    tables = [_top_versus_overall(0), _top_versus_overall(1)]
    runs = _gated_runs(tables, range(2), functions=["add", "mul"], specialist_metric="same")
    old = [(p, {**r, "config": {k: v for k, v in r["config"].items() if k != "specialist_metric"}}) for p, r in runs]
    got = final_proxy(old, tables, record_scores=False)
    assert got["config"]["specialist_metric"] == "same"  # not the default of today (topdown)
    want = final_proxy(runs, tables, record_scores=False)
    assert [s["transfer"] for s in got["specialists"]] == [s["transfer"] for s in want["specialists"]]


def test_evaluate_scores_each_seed_through_the_gated_rule(tmp_path: Path) -> None:
    """The spread over seeds in the evaluation is that of the method: each run alone through its final rule."""
    tables = _kinds()
    d, runs, best = evolve_and_select(tmp_path, tables, range(2), {**TINY, "final": "gated"}, 100)
    df = evaluate_file(best, d, ["sb/b1"], runs=runs, n_boot=5, n_supervised=0)
    test = split(tables[2], 100, 0, 0.5)[1]
    for path in runs:
        run = json.loads(Path(path).read_text())
        alone = one_run_proxy(path, run, tables)
        assert isinstance(alone, Gated)
        got = df.set_index("method").loc[f"run_{run['seed']}", "kendall"]
        assert got == pytest.approx(kendall(alone.evaluate_table(test), test.target), abs=1e-12)
    bare = {"formula": ["proxy", "nwot"]}  # a formula file without a method: scored as it is
    assert isinstance(one_run_proxy("f.json", bare), Formula)
