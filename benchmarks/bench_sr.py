"""The GP engine against gplearn at equal budget on the same training data (nb101 + nb201/cifar10 + nb301 splits).

    .venv/bin/python benchmarks/bench_sr.py --data DIR [--population 100] [--generations 50] [--seeds 0 1 2]

Both get the paper's function set {add, sub, mul, neg, div, log, sqrt} (gplearn's protected versions; same rules),
no constants, the same population, generations, operator probabilities, tournament size, initial depth and seeds.
gplearn's ``SymbolicRegressor`` optimises its built-in Spearman metric on the stacked training rows (it has no
per-problem fitness; the target is the within-problem rank of the accuracy so problems are comparable); evoproxy
optimises mean per-problem Kendall tau. Both final formulas are then scored identically: mean per-problem Kendall
tau on the train splits and on the test splits. Prints a markdown table, the wall-time ratio, and where evoproxy's
time went (evaluating the trees' programs, the rank-correlation fitness, and the rest: DEAP's selection, variation
and depth limit, the hall of fame and statistics), with the ratio the run would reach if the fitness cost nothing.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import rankdata

from evoproxy.metrics import kendall
from evoproxy.problems import load_problems, split
from evoproxy.sr import engine as engine_module
from evoproxy.sr.config import SRConfig
from evoproxy.sr.engine import Engine
from evoproxy.sr.fitness import ProblemData, score_matrix
from evoproxy.sr.formula import Formula, ast_from_text

PROBLEMS = "nb101/cifar10,nb201/cifar10,nb301/cifar10"


def mean_tau(formula: Formula, parts: list) -> float:
    return float(np.mean([kendall(formula.evaluate_table(p), p.target) for p in parts]))


def timed(name: str, fn: Callable[..., Any], spent: dict[str, float]) -> Callable[..., Any]:
    """``fn`` adding its wall time to ``spent[name]`` (one clock read per generation and problem set: negligible)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - t0
    return wrapper


def run_gplearn(train: list, terminals: list[str], cfg: SRConfig, seed: int) -> tuple[Formula, float]:
    from gplearn.genetic import SymbolicRegressor

    X = np.concatenate([np.column_stack([t.values(p) for p in terminals]) for t in train])
    X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
    y = np.concatenate([rankdata(t.target) / t.n for t in train])
    model = SymbolicRegressor(
        population_size=cfg.population, generations=cfg.generations, tournament_size=cfg.tournament_size,
        const_range=None, init_depth=(cfg.init_min_depth, cfg.init_max_depth), init_method="half and half",
        function_set=("add", "sub", "mul", "neg", "div", "log", "sqrt"), metric="spearman",
        p_crossover=cfg.p_crossover, p_subtree_mutation=cfg.p_subtree, p_hoist_mutation=cfg.p_hoist,
        p_point_mutation=cfg.p_point, parsimony_coefficient=0.0, stopping_criteria=2.0, n_jobs=1, random_state=seed,
        feature_names=terminals,
    )
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    return Formula.from_ast(ast_from_text(str(model._program))), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--generations", type=int, default=50)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    cfg = SRConfig.from_dict({"preset": "paper", "population": args.population, "generations": args.generations})
    tables = load_problems(args.data, PROBLEMS)
    parts = [split(t, 1000, 0, 0.5) for t in tables]
    train, test = [p[0] for p in parts], [p[1] for p in parts]
    data = [ProblemData.from_table(t) for t in train]
    score_matrix([["proxy", "nwot"]], data)  # compile the numba kernels before timing
    print(f"machine: {platform.processor() or platform.machine()}, problems {PROBLEMS}, "
          f"train n={[t.n for t in train]}, population {cfg.population}, generations {cfg.generations}\n")
    print("| seed | engine | wall s | train tau (mean) | test tau (mean) | formula |")
    print("|---|---|---|---|---|---|")
    spent = {"programs": 0.0, "fitness": 0.0}
    engine_module.prefix_outputs = timed("programs", engine_module.prefix_outputs, spent)
    engine_module.score_outputs = timed("fitness", engine_module.score_outputs, spent)
    walls = {"evoproxy": [], "gplearn": []}
    fits = {"evoproxy": [], "gplearn": []}
    for seed in args.seeds:
        eng = Engine(cfg, data, seed)
        t0 = time.perf_counter()
        res = eng.run()
        ours = (Formula.from_ast(res["ast"]), time.perf_counter() - t0)
        theirs = run_gplearn(train, eng.terminals, cfg, seed)
        for name, (f, wall) in (("evoproxy", ours), ("gplearn", theirs)):
            tr, te = mean_tau(f, train), mean_tau(f, test)
            walls[name].append(wall)
            fits[name].append(tr)
            text = f.text if len(f.text) < 80 else f.text[:77] + "..."
            print(f"| {seed} | {name} | {wall:.2f} | {tr:.4f} | {te:.4f} | `{text}` |")
    ratio = np.sum(walls["gplearn"]) / np.sum(walls["evoproxy"])
    print(f"\nwall-time ratio gplearn / evoproxy: {ratio:.1f}x; mean train tau evoproxy "
          f"{np.mean(fits['evoproxy']):.4f} vs gplearn {np.mean(fits['gplearn']):.4f}")
    ours_total = float(np.sum(walls["evoproxy"]))
    rest = ours_total - spent["programs"] - spent["fitness"]
    print(f"evoproxy's {ours_total:.2f} s: rank-correlation fitness {spent['fitness']:.2f} s "
          f"({100 * spent['fitness'] / ours_total:.0f}%), tree programs {spent['programs']:.2f} s "
          f"({100 * spent['programs'] / ours_total:.0f}%), DEAP selection/variation/depth limit and bookkeeping "
          f"{rest:.2f} s ({100 * rest / ours_total:.0f}%); with a free fitness the ratio would be "
          f"{np.sum(walls['gplearn']) / (ours_total - spent['fitness']):.1f}x")


if __name__ == "__main__":
    main()
