"""The generalisation methods on small fixtures: problem weighting, lexicase, the calibrated transform, parsimony,
ensembles (JSON round trip, identical scores everywhere, missing proxies) and the final-proxy selection."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sr_engine import make_table

from evoproxy.cli import main
from evoproxy.metrics import kendall, spearman
from evoproxy.nas.objective import LookupObjective
from evoproxy.problems import ProblemTable, save_table, split, table_filename
from evoproxy.sr.engine import evolve, lexicase, seeded_random, tools
from evoproxy.sr.ensemble import Ensemble
from evoproxy.sr.fitness import aggregate, case_groups, mask_plan
from evoproxy.sr.formula import Formula, formula_from_run, load_formula
from evoproxy.sr.transforms import apply, ecdf

TINY = {"population": 30, "generations": 4, "init_min_depth": 1, "init_max_depth": 3, "max_depth": 5}


def test_space_mean_weighs_every_space_the_same() -> None:
    pids = ["a/1", "b/1", "b/2", "b/3"]
    scores = np.array([[0.8, 0.0, 0.0, 0.0], [0.1, 0.3, 0.3, 0.3]])
    groups = case_groups(pids, "space_mean")
    assert groups[1] == ["a", "b"] and groups[0].tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(aggregate(scores, "space_mean", groups), [0.4, 0.2])
    np.testing.assert_allclose(aggregate(scores, "mean"), [0.2, 0.25])  # the problem mean prefers the other
    with pytest.raises(ValueError, match="needs the problems' search spaces"):
        aggregate(scores, "space_mean")


def test_lexicase_picks_the_generalist_that_the_mean_tournament_misses() -> None:
    # a specialist ranks two problems perfectly and fails the third; the generalist is decent on all three
    cases = np.array([[1.0, 1.0, -0.6], [0.4, 0.4, 0.4]] + [[0.0, 0.0, 0.0]] * 8)
    with seeded_random(0):
        lex = lexicase(cases, 3000)
    gen, spec = lex.count(1) / 3000, lex.count(0) / 3000
    assert gen > 0.25 and spec > 0.25 and gen + spec == 1.0  # never a filler: each is best on some case order

    # the mean aggregate (what a tournament compares) ranks the specialist first: .47 > .40
    assert np.argmax(cases.mean(axis=1)) == 0


def test_lexicase_run_is_deterministic_and_scores_per_space(tmp_path: Path) -> None:
    tables = [make_table("s1", "a", 120, 0), make_table("s1", "b", 120, 1), make_table("s2", "a", 90, 2)]
    cfg = {**TINY, "selection": "lexicase", "aggregate": "space_mean"}
    a = evolve(tables, cfg, seed=3, split_cfg={"n_train": 60})
    b = evolve(tables, cfg, seed=3, split_cfg={"n_train": 60})
    assert a["formula"] == b["formula"] and a["fitness"]["train_fitness"] == b["fitness"]["train_fitness"]
    pp = a["fitness"]["per_problem"]
    m = a["fitness"]["metric"]
    s1 = np.mean([pp["s1/a"]["train"][m], pp["s1/b"]["train"][m]])
    assert a["fitness"]["train_fitness"] == pytest.approx(np.mean([s1, pp["s2/a"]["train"][m]]), abs=1e-12)


def test_parsimony_shrinks_formulas() -> None:
    tables = [make_table("s1", "t", 150, 5)]
    base = {**TINY, "generations": 8, "population": 40, "init_max_depth": 5, "max_depth": 8}
    plain = [evolve(tables, base, seed=s)["size"] for s in range(3)]
    lean = [evolve(tables, {**base, "parsimony": 0.05}, seed=s)["size"] for s in range(3)]
    assert sum(lean) < sum(plain) and max(lean) <= 5  # div(nwot, log(flops)) is 5 nodes


def test_ecdf_scores_one_architecture_exactly_like_its_row_in_a_table() -> None:
    table = make_table("nb201", "cifar10", 300, 7)
    reference = ProblemTable("nb201", "cifar10", table.df.iloc[:100].reset_index(drop=True))
    f = Formula.from_text("add(mul(nwot, flops), sqrt(snip))", transform="ecdf")
    whole = f.evaluate_table(table, reference=reference)
    for i in (0, 150, 299):
        values = {p: float(table.df.at[i, p]) for p in f.proxies}
        assert f.score_values(values, reference) == whole[i]
    # without a reference the evaluated rows are the calibration sample
    own = f.evaluate_table(table)
    cols = {p: apply(table.values(p), "ecdf") for p in f.proxies}
    np.testing.assert_array_equal(own, Formula.from_text(f.text).evaluate(cols))
    with pytest.raises(ValueError, match="needs a reference sample"):
        f.score_values({"nwot": 1.0, "flops": 1.0, "snip": 1.0})
    # scale-free: a proxy multiplied by -N... or shifted gives the same calibrated values (jacov ~ -N)
    np.testing.assert_allclose(ecdf(3 * table.values("nwot") + 7, 3 * table.values("nwot") + 7),
                               ecdf(table.values("nwot"), table.values("nwot")))
    assert np.isnan(ecdf(np.array([np.nan, 1.0]), np.array([0.0, 2.0]))[0])


def test_ecdf_keeps_the_order_a_small_reference_cannot_resolve() -> None:
    rng = np.random.default_rng(0)
    reference = np.round(rng.normal(size=64), 1)  # ties too
    x = np.sort(np.concatenate([rng.normal(size=5000) * 4, [-1e9, 1e9]]))
    f = ecdf(x, reference)
    assert np.all(np.diff(f) > 0) and 0 < f[0] and f[-1] < 1  # strictly increasing: above the reference's max too
    knots = np.unique(reference)
    lo, hi = np.searchsorted(np.sort(reference), knots, "left"), np.searchsorted(np.sort(reference), knots, "right")
    assert np.array_equal(ecdf(knots, reference), (lo + hi) / (2.0 * reference.size))  # mid-rank at reference values
    assert np.array_equal(ecdf(reference, reference), ecdf(reference, reference[::-1]))
    np.testing.assert_allclose(ecdf(3 * x + 7, 3 * reference + 7), f, rtol=0, atol=1e-12)  # scale-free
    np.testing.assert_allclose(ecdf(-x, -reference), 1 - f, rtol=0, atol=1e-12)  # a flipped proxy flips F


def write_data(tmp_path: Path, tables: list[ProblemTable]) -> Path:
    """A data folder of problem tables, as ``evoproxy ingest`` writes them."""
    d = tmp_path / "data"
    for t in tables:
        save_table(t, d / table_filename(t.space, t.task))
    return d


def evolve_and_select(tmp_path: Path, tables: list[ProblemTable], seeds: range, sr: dict, n_train: int
                      ) -> tuple[Path, list[str], Path]:
    """Write ``tables`` to a data folder, run ``evoproxy evolve`` per seed and ``evoproxy select`` on the runs, as a
    user would: (data folder, run files, final proxy file)."""
    d = write_data(tmp_path, tables)
    runs = []
    for seed in seeds:
        out = tmp_path / f"run_{seed}.json"
        assert main(["evolve", "--data", str(d), "--problems", "all", "--seed", str(seed), "--n-train", str(n_train),
                     "--sr-json", json.dumps(sr), "--out", str(out)]) == 0
        runs.append(str(out))
    best = tmp_path / "best.json"
    assert main(["select", "--runs", *runs, "--data", str(d), "--out", str(best)]) == 0
    return d, runs, best


def test_ensemble_round_trips_and_scores_identically_everywhere(tmp_path: Path) -> None:
    tables = [make_table("nb201", "cifar10", 200, 0), make_table("nb101", "cifar10", 120, 1)]
    sr = {**TINY, "transform": "ecdf", "final": "ensemble", "ensemble_size": 3}
    d, runs, best = evolve_and_select(tmp_path, tables, range(4), sr, 60)
    saved = json.loads(best.read_text())
    assert saved["kind"] == "ensemble" and sum(m["weight"] for m in saved["members"]) == 3
    fits = sorted((json.loads(Path(r).read_text())["fitness"]["train_fitness"], -i) for i, r in enumerate(runs))
    top3 = {-s for _, s in fits[::-1][:3]}  # the top 3 runs by training fitness, identical formulas merged
    assert {s for m in saved["members"] for s in m["seeds"]} == top3 == set(saved["seed"])
    assert all(m["weight"] == len(m["seeds"]) for m in saved["members"]) and "calibration" in saved
    texts = [m["text"] for m in saved["members"]]
    assert len(texts) == len(set(texts))
    assert set(saved["fitness"]["per_problem"]) == {"nb201/cifar10", "nb101/cifar10"}
    ens = load_formula(best)
    assert isinstance(ens, Ensemble)
    again = Ensemble.from_run(json.loads(json.dumps(ens.to_dict())))
    table = make_table("nb201", "cifar10", 200, 0)
    test = split(table, 60, 0, 0.5)[1]
    x = ens.evaluate_table(test)
    np.testing.assert_array_equal(x, again.evaluate_table(test))
    # score, evaluate and NAS lookup give the same numbers
    assert main(["score", "--formula", str(best), "--data", str(d), "--out", str(tmp_path / "s.parquet")]) == 0
    assert main(["evaluate", "--formula", str(best), "--data", str(d), "--n-train", "60", "--split-seed", "0",
                 "--n-boot", "5", "--n-supervised", "0", "--out", str(tmp_path / "e.parquet")]) == 0
    s = pd.read_parquet(tmp_path / "s.parquet").set_index("problem").loc["nb201/cifar10"]
    e = pd.read_parquet(tmp_path / "e.parquet").set_index(["problem", "method"]).loc[("nb201/cifar10", "evolved")]
    assert s["kendall"] == pytest.approx(kendall(x, test.target), abs=1e-12) == pytest.approx(e["kendall"])
    lookup = LookupObjective(ens, table)
    np.testing.assert_allclose([lookup(a) for a in table.df["arch"]], ens.evaluate_table(table))
    assert_one_arch_scores_like_its_row(ens, test, split(table, 60, 0, 0.5)[0])


def assert_one_arch_scores_like_its_row(scorer, test: ProblemTable, reference: ProblemTable) -> None:
    """One architecture against a reference sample scores exactly its row's value in a table with that reference,
    and without a reference it is refused."""
    full = scorer.evaluate_table(test, reference=reference)
    for i in (0, 17, test.n - 1):
        values = {p: float(test.df.at[i, p]) for p in scorer.proxies}
        assert scorer.score_values(values, reference) == full[i]
    with pytest.raises(ValueError, match="needs a reference sample"):
        scorer.score_values(values)


def test_select_merges_members_with_the_same_maths_into_the_one_with_fewest_proxies() -> None:
    from evoproxy.sr.select import final_proxy

    table = make_table("nb201", "cifar10", 200, 0)
    cfg = {**TINY, "transform": "ecdf", "final": "ensemble", "ensemble_size": 5}
    template = evolve([table], cfg, seed=0, split_cfg={"n_train": 60})
    texts = ["div(mul(snip, flops), div(snip, nwot))", "mul(flops, nwot)", "nwot", "mul(nwot, flops)",
             "add(nwot, nwot)"]
    runs = []
    for seed, text in enumerate(texts):
        f = Formula.from_text(text, "ecdf")
        runs.append((f"run_{seed}.json", {**template, **f.to_dict(), "seed": seed,
                                          "fitness": {"train_fitness": 1.0 - seed / 10}}))
    out = final_proxy(runs)
    members = {m["text"]: (m["weight"], m["seeds"]) for m in out["members"]}
    # flops*nwot three times (kept as the first of the fewest-proxy, fewest-node forms), nwot, and 2*nwot (other maths)
    assert members == {"mul(flops, nwot)": (3.0, [0, 1, 3]), "nwot": (1.0, [2]), "add(nwot, nwot)": (1.0, [4])}
    assert "snip" not in out["proxies"]
    unmerged = Ensemble.of([Formula.from_text(t, "ecdf") for t in texts])
    merged = Ensemble.from_run(out)
    test = split(table, 60, 0, 0.5)[1]
    np.testing.assert_allclose(merged.evaluate_table(test), unmerged.evaluate_table(test), rtol=0, atol=1e-12)


def test_default_functions_add_min_max_to_the_papers_seven_and_min_max_merge_symmetrically() -> None:
    from evoproxy.methods import PAPER_FUNCTIONS
    from evoproxy.sr.config import SRConfig
    from evoproxy.sr.select import maths_key

    assert SRConfig.from_dict({}).functions == [*PAPER_FUNCTIONS, "min", "max"]
    assert SRConfig.from_dict({"preset": "paper"}).functions == list(PAPER_FUNCTIONS)
    # min and max are symmetric: members that differ only in argument order are one member
    assert maths_key(Formula.from_text("min(nwot, flops)", "ecdf")) == maths_key(
        Formula.from_text("min(flops, nwot)", "ecdf"))


def test_missing_proxies_calibrated_members_degrade_raw_members_drop_out() -> None:
    full = make_table("x", "y", 100, 3)
    lacking = ProblemTable("x", "y", full.df.drop(columns=["jacov"]))
    # a calibrated formula: an absent proxy takes the neutral value, so add(jacov, nwot) ranks like nwot
    f = Formula.from_text("add(jacov, nwot)", transform="ecdf")
    np.testing.assert_allclose(f.evaluate_table(lacking), 0.5 + apply(lacking.values("nwot"), "ecdf"))
    a, b = Formula.from_text("jacov", transform="ecdf"), Formula.from_text("add(nwot, flops)", transform="ecdf")
    ens = Ensemble.of([a, b], [2.0, 1.0])
    cal_b = apply(b.evaluate_table(lacking), "ecdf")
    np.testing.assert_allclose(ens.evaluate_table(lacking), (2 * 0.5 + cal_b) / 3)  # a is neutral there
    both = ens.evaluate_table(full)
    cal = [apply(m.evaluate_table(full), "ecdf") for m in (a, b)]
    np.testing.assert_allclose(both, (2 * cal[0] + cal[1]) / 3)
    # a raw member that needs an absent proxy is left out and the weights renormalised
    raw = Ensemble.of([Formula.from_text("jacov"), Formula.from_text("add(nwot, flops)")], [2.0, 1.0])
    raw_b = Formula.from_text("add(nwot, flops)").evaluate_table(lacking)
    np.testing.assert_allclose(raw.evaluate_table(lacking), apply(raw_b, "ecdf"))
    nothing = ProblemTable("x", "y", full.df[["arch", "snip", "val_accuracy"]])
    assert np.isnan(Ensemble.of([Formula.from_text("jacov")]).evaluate_table(nothing)).all()  # "–": none can score


def test_select_best_is_the_paper_rule_and_refuses_mixed_runs(tmp_path: Path, capsys) -> None:
    d = write_data(tmp_path, [make_table("nb201", "cifar10", 200, 0), make_table("nb101", "cifar10", 120, 1)])
    paths = []
    paper = {**TINY, "preset": "paper"}
    for seed, sr in ((0, paper), (1, paper), (2, {**paper, "aggregate": "min"})):
        out = tmp_path / f"run_{seed}.json"
        assert main(["evolve", "--data", str(d), "--seed", str(seed), "--n-train", "60",
                     "--sr-json", json.dumps(sr), "--out", str(out)]) == 0
        paths.append(str(out))
    assert main(["select", "--runs", *paths[:2], "--out", str(tmp_path / "b.json")]) == 0
    best = json.loads((tmp_path / "b.json").read_text())
    assert best["kind"] == "formula" and best["selection"]["final"] == "best"
    assert main(["select", "--runs", *paths, "--out", str(tmp_path / "c.json")]) == 2
    assert "different SR configs" in capsys.readouterr().err


def test_seeded_random_restores_the_callers_stream() -> None:
    random.seed(42)
    want = [random.random() for _ in range(3)]
    random.seed(42)
    with seeded_random(7):
        inside = random.random()
    assert [random.random() for _ in range(3)] == want
    with seeded_random(7):
        assert random.random() == inside


def test_validation_holds_out_a_fold_and_select_ranks_runs_by_gain(tmp_path: Path) -> None:
    from evoproxy.sr.engine import validation_fold
    from evoproxy.sr.select import final_proxy

    pids = ["s1/a", "s1/b", "s2/a", "s3/a"]
    assert [validation_fold("loso", pids, s) for s in range(4)] == [["s1/a", "s1/b"], ["s2/a"], ["s3/a"],
                                                                    ["s1/a", "s1/b"]]
    assert validation_fold("lopo", pids, 2) == ["s2/a"] and validation_fold("none", pids, 0) == []
    assert validation_fold("loso", ["s1/a", "s1/b"], 0) == []  # one space: nothing to hold out
    tables = [make_table("s1", "a", 120, 0), make_table("s1", "b", 120, 1), make_table("s2", "a", 90, 2),
              make_table("s3", "a", 90, 3)]
    cfg = {**TINY, "validation": "loso", "rank_runs_by": "validation", "final": "ensemble", "ensemble_size": 2}
    runs = []
    for seed in range(3):
        r = evolve(tables, cfg, seed=seed, split_cfg={"n_train": 60})
        v = r["validation"]
        assert v["problems"] == validation_fold("loso", pids, seed)
        assert not set(v["problems"]) & set(v["fit_problems"]) and sorted(v["problems"] + v["fit_problems"]) == pids
        assert v["gain"] == pytest.approx(v["score"] - v["baseline_score"])
        runs.append((f"run_{seed}.json", r))
    out = final_proxy(runs)
    gains = sorted(((r["validation"]["gain"], -r["seed"]) for _, r in runs), reverse=True)
    assert out["seed"] == [-s for _, s in gains[:2]]
    with pytest.raises(ValueError, match="needs a validation scheme"):
        evolve(tables, {**TINY, "rank_runs_by": "validation"}, seed=0)


def test_lexicase_equals_deaps_automatic_epsilon_lexicase() -> None:
    from types import SimpleNamespace

    rng = np.random.default_rng(4)
    cases = np.round(rng.normal(size=(60, 5)), 2)  # ties, as rank correlations of similar formulas have
    wrapped = [SimpleNamespace(i=i, fitness=SimpleNamespace(values=tuple(r), weights=(1.0,) * 5))
               for i, r in enumerate(cases)]
    with seeded_random(9):
        ours = lexicase(cases, 300)
    with seeded_random(9):
        theirs = [w.i for w in tools.selAutomaticEpsilonLexicase(wrapped, 300)]
    assert ours == theirs


def test_mask_plan_masks_every_terminal_about_equally_and_per_seed() -> None:
    pids = [f"s{i}/t" for i in range(12)]
    terms = [f"p{j}" for j in range(13)]
    plan = mask_plan(pids, terms, 2, seed=0)
    assert set(plan) == set(pids) and all(len(set(d)) == 2 for d in plan.values())
    counts = pd.Series([p for d in plan.values() for p in d]).value_counts()
    assert set(counts.index) == set(terms) and counts.max() - counts.min() <= 1  # 24 masks over 13 terminals
    assert plan == mask_plan(pids, terms, 2, seed=0) and plan != mask_plan(pids, terms, 2, seed=1)
    assert mask_plan(pids, terms, 0, seed=0) == {}
    assert all(len(d) == 1 for d in mask_plan(pids, ["a", "b"], 5, seed=0).values())  # never every terminal


def _redundant(space: str, n: int, seed: int, drop: tuple[str, ...] = ()) -> ProblemTable:
    """nwot ranks accuracy best, flops a little worse, snip is noise: a formula of nwot alone is best while every
    problem has nwot, and ties everything on one that lacks it."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    df = pd.DataFrame({"arch": [f"{space}-{i}" for i in range(n)], "nwot": y + rng.normal(0, 0.2, n),
                       "flops": y + rng.normal(0, 0.6, n), "snip": rng.normal(size=n), "val_accuracy": y})
    return ProblemTable(space, "t", df.drop(columns=list(drop)))


def test_masked_twins_teach_the_formula_to_do_without_a_proxy() -> None:
    tables = [_redundant(f"s{i}", 160, i) for i in range(4)]
    lacking = _redundant("new", 400, 9, drop=("nwot",))
    cfg = {**TINY, "generations": 6, "parsimony": 0.01, "terminals": ["nwot", "flops", "snip"]}
    plain = [evolve(tables, cfg, seed=s) for s in range(3)]
    masked_runs = [evolve(tables, {**cfg, "masked_proxies": 1}, seed=s) for s in range(3)]
    held = [[kendall(formula_from_run(r).evaluate_table(lacking), lacking.target) for r in runs]
            for runs in (plain, masked_runs)]
    assert max(held[0]) < 0.1  # nwot alone: every arch tied where nwot is absent
    assert min(held[1]) > 0.5  # a formula that falls back on flops
    r = masked_runs[0]
    assert "masks" in r and "masks" not in plain[0]
    assert r["masks"] == mask_plan([t.id for t in tables], ["nwot", "flops", "snip"], 1, 0)
    # its training fitness is the space mean of each problem's mean over itself and its masked twin
    f = formula_from_run(r)
    parts = [split(t, 1000, 0, 0.5)[0] for t in tables]
    twin = [ProblemTable(p.space, p.task, p.df.drop(columns=r["masks"][p.id])) for p in parts]
    rho = [(spearman_of(f, p) + spearman_of(f, q)) / 2 for p, q in zip(parts, twin, strict=True)]
    assert r["fitness"]["train_fitness"] == pytest.approx(np.mean(rho), abs=1e-9)


def spearman_of(f: Formula, t: ProblemTable) -> float:
    return spearman(f.evaluate_table(t), t.target)


def _additive(space: str, n: int, seed: int) -> ProblemTable:
    """Accuracy = 1.6 flops + nwot (each seen with noise) and three noise proxies: flops alone is a strong, easy
    optimum that a population can collapse onto."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    noise = {p: rng.normal(size=n) for p in ("snip", "jacov", "synflow")}
    return ProblemTable(space, "t", pd.DataFrame({
        "arch": [f"{space}-{i}" for i in range(n)], "flops": a + rng.normal(0, 0.3, n),
        "nwot": b + rng.normal(0, 0.3, n), **noise, "val_accuracy": 1.6 * a + b}))


def test_distinct_offspring_keeps_a_run_from_collapsing_onto_one_proxy() -> None:
    tables = [_additive(f"s{i}", 150, i) for i in range(3)]
    cfg = {"population": 30, "generations": 10, "max_depth": 6, "parsimony": 0.002}
    plain = [evolve(tables, {**cfg, "distinct_offspring": 0}, seed=s) for s in range(8)]
    distinct = [evolve(tables, {**cfg, "distinct_offspring": 20}, seed=s) for s in range(8)]
    assert any(r["text"] == "flops" for r in plain)  # a collapsed run: every tree a copy of flops
    assert all({"flops", "nwot"} <= set(r["proxies"]) for r in distinct)
    fit = [[r["fitness"]["train_fitness"] for r in runs] for runs in (plain, distinct)]
    assert min(fit[1]) > min(fit[0]) + 0.04
    assert sum(r["history"][-1]["nevals"] for r in distinct) > 1.5 * sum(r["history"][-1]["nevals"] for r in plain)
