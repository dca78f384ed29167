"""The GP loop (DEAP): evolve a proxy formula maximising aggregated rank correlation on the training splits.

Variation follows gplearn's scheme: each offspring comes from exactly one operator drawn with the configured
probabilities (one-point crossover, subtree / hoist / point mutation, reproduction) applied to tournament winners;
an offspring deeper than ``max_depth`` (or larger than ``max_size``) is rejected and its parent is kept. With
``multiobjective: true`` survival is NSGA-II (``selNSGA2``, mu + lambda) on (fitness, -size) and the run stores the
Pareto front. Everything random draws from one ``random.Random`` state seeded by the run seed, so the same seed,
config and data give the identical formula.
"""

from __future__ import annotations

import logging
import platform
import random
import time
from collections.abc import Sequence
from typing import Any

import deap
import numpy as np
from deap import base, creator, gp, tools

import evoproxy
from evoproxy import PROXIES
from evoproxy.metrics import kendall, n_scored, spearman
from evoproxy.problems import ProblemTable, SplitConfig, split
from evoproxy.progress import Progress
from evoproxy.sr import primitives
from evoproxy.sr.config import SRConfig
from evoproxy.sr.fitness import ProblemData, aggregate, prefix_outputs, score_outputs, stack
from evoproxy.sr.formula import Ast, Formula

log = logging.getLogger(__name__)

if not hasattr(creator, "EvoFitness1"):
    creator.create("EvoFitness1", base.Fitness, weights=(1.0,))
    creator.create("EvoFitness2", base.Fitness, weights=(1.0, -1.0))
    creator.create("EvoTree1", gp.PrimitiveTree, fitness=creator.EvoFitness1)
    creator.create("EvoTree2", gp.PrimitiveTree, fitness=creator.EvoFitness2)


def build_pset(functions: Sequence[str], terminals: Sequence[str]) -> gp.PrimitiveSet:
    """DEAP primitive set: the chosen functions, one argument per proxy terminal, no constants."""
    pset = gp.PrimitiveSet("PROXY", len(terminals))
    pset.renameArguments(**{f"ARG{i}": t for i, t in enumerate(terminals)})
    for name in functions:
        p = primitives.get(name)
        pset.addPrimitive(p.fn, p.arity, name=name)
    return pset


def tree_to_ast(tree: gp.PrimitiveTree) -> Ast:
    """Prefix DEAP tree -> nested AST."""
    stack: list[list[Any]] = []
    root: Ast | None = None
    for node in tree:
        item: Ast = ["proxy", node.value] if isinstance(node, gp.Terminal) else [node.name]
        if stack:
            stack[-1][0].append(item)
            stack[-1][1] -= 1
        else:
            root = item
        if not isinstance(node, gp.Terminal) and node.arity > 0:
            stack.append([item, node.arity])
        while stack and stack[-1][1] == 0:
            stack.pop()
    assert root is not None
    return root


def hoist(tree: gp.PrimitiveTree, rng: random.Random) -> gp.PrimitiveTree:
    """Hoist mutation: replace a random subtree by a random subtree of itself (shrinks the tree)."""
    i = rng.randrange(len(tree))
    sl = tree.searchSubtree(i)
    sub = gp.PrimitiveTree(tree[sl])
    j = rng.randrange(len(sub))
    tree[sl] = sub[sub.searchSubtree(j)]
    return tree


def choose_terminals(cfg: SRConfig, train: Sequence[ProblemData]) -> list[str]:
    """The run's terminals: ``sr.terminals``, each of which some training problem must have (finite values), or with
    ``all`` every proxy present in at least one training problem."""
    present = {p for d in train for p in d.columns}
    have = [p for p in PROXIES if p in present] + sorted(present - set(PROXIES))
    if cfg.terminals != "all":
        if not cfg.terminals:
            raise ValueError("sr.terminals: empty list")
        unknown = [t for t in cfg.terminals if t not in present]
        if unknown:
            what = "not a proxy" if all(t not in PROXIES for t in unknown) else "not a proxy of any training problem"
            raise ValueError(f"sr.terminals: {unknown} {what} (the training problems have: "
                             f"{', '.join(have) or 'none'})")
        return list(dict.fromkeys(cfg.terminals))
    if not have:
        raise ValueError(f"no proxy column with finite values in the training problems "
                         f"{[d.pid for d in train]}")
    return have


def knee_index(fit: np.ndarray, size: np.ndarray) -> int:
    """Pareto knee: the point farthest from the line joining the extremes in normalised (size, fitness)."""
    if len(fit) <= 2:
        return int(np.argmax(fit))
    f = (fit - fit.min()) / (np.ptp(fit) or 1.0)
    s = (size - size.min()) / (np.ptp(size) or 1.0)
    a, b = np.array([s[np.argmin(s)], f[np.argmin(s)]]), np.array([s[np.argmax(f)], f[np.argmax(f)]])
    d = b - a
    dist = np.abs(d[0] * (f - a[1]) - d[1] * (s - a[0])) / (np.hypot(*d) or 1.0)
    return int(np.argmax(dist))


class Engine:
    """One GP run over fixed training data; :meth:`run` returns the best tree, its fitness and the history."""

    def __init__(self, cfg: SRConfig, train: Sequence[ProblemData], seed: int) -> None:
        self.cfg, self.train, self.seed = cfg, list(train), seed
        self.rng = random.Random(seed)
        self.terminals = choose_terminals(cfg, self.train)
        self.pset = build_pset(cfg.functions, self.terminals)
        self.mo = cfg.multiobjective
        self.ind_cls = creator.EvoTree2 if self.mo else creator.EvoTree1
        self.stacked = stack(self.train)
        # every node of every tree is one of the primitive set's shared objects: label them once by identity
        nodes = [n for group in (*self.pset.primitives.values(), *self.pset.terminals.values()) for n in group]
        self.labels = {id(n): (n.value if isinstance(n, gp.Terminal) else n.name, n.arity) for n in nodes}
        self.cache: dict[tuple[int, ...], float] = {}
        self.nevals = 0
        self._holding_global = False
        probs = [cfg.p_crossover, cfg.p_subtree, cfg.p_hoist, cfg.p_point, cfg.p_reproduction]
        self._cum_probs = np.cumsum(np.array(probs, dtype=float))

    # --- random generation: DEAP's generators use the global ``random``; run them under our own state ---
    def _with_rng(self, fn: Any, *args: Any, **kw: Any) -> Any:
        if self._holding_global:  # inside run(): the global random already carries our stream
            return fn(*args, **kw)
        state = random.getstate()
        random.setstate(self.rng.getstate())
        try:
            return fn(*args, **kw)
        finally:
            self.rng.setstate(random.getstate())
            random.setstate(state)

    def _new(self, min_d: int, max_d: int) -> gp.PrimitiveTree:
        return self.ind_cls(self._with_rng(gp.genHalfAndHalf, self.pset, min_=min_d, max_=max_d))

    def evaluate(self, pop: Sequence[gp.PrimitiveTree]) -> None:
        """Fitness of every individual without one; each distinct tree (key: its node sequence) is scored once per
        run, all new trees of a generation in one batched evaluation and ranking."""
        todo = [ind for ind in pop if not ind.fitness.valid]
        keys = [tuple(map(id, ind)) for ind in todo]
        new = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if new:
            labels = self.labels
            out = prefix_outputs([[labels[i] for i in k] for k in new], self.stacked)
            fit = aggregate(score_outputs(out, self.train, self.cfg.metric), self.cfg.aggregate)
            self.nevals += len(new)
            for k, v in zip(new, fit, strict=True):
                self.cache[k] = float(v)
        for k, ind in zip(keys, todo, strict=True):
            ind.fitness.values = (self.cache[k], len(ind)) if self.mo else (self.cache[k],)

    def _ok(self, ind: gp.PrimitiveTree) -> bool:
        return ind.height <= self.cfg.max_depth and (self.cfg.max_size <= 0 or len(ind) <= self.cfg.max_size)

    def _tournament(self, pop: Sequence[gp.PrimitiveTree], rank: Sequence[tuple[float, int]]) -> gp.PrimitiveTree:
        """Best of ``tournament_size`` uniform draws by (fitness, -size); ``rank`` holds those keys per index."""
        n = len(pop)
        aspirants = [self.rng.randrange(n) for _ in range(self.cfg.tournament_size)]
        return pop[max(aspirants, key=rank.__getitem__)]

    def _offspring(self, pop: Sequence[gp.PrimitiveTree], rank: Sequence[tuple[float, int]]) -> gp.PrimitiveTree:
        c = self.cfg
        r = self.rng.random() * self._cum_probs[-1]
        op = int(np.searchsorted(self._cum_probs, r, side="right"))
        parent = self._tournament(pop, rank)
        child = self.ind_cls(parent)
        if op == 0:
            donor = self.ind_cls(self._tournament(pop, rank))
            child, _ = self._with_rng(gp.cxOnePoint, child, donor)
        elif op == 1:
            expr = lambda pset, type_: gp.genGrow(pset, 0, c.subtree_max_depth, type_)  # noqa: E731
            (child,) = self._with_rng(gp.mutUniform, child, expr, self.pset)
        elif op == 2:
            child = hoist(child, self.rng)
        elif op == 3:
            (child,) = self._with_rng(gp.mutNodeReplacement, child, self.pset)
        else:
            child.fitness.values = parent.fitness.values
            return child
        if not self._ok(child):
            child = self.ind_cls(parent)
            child.fitness.values = parent.fitness.values
        else:
            del child.fitness.values
        return child

    def run(self) -> dict[str, Any]:
        """Evolve and return the FormulaRun fields. The seeded stream is moved into the global ``random`` (which DEAP's
        generators and operators draw from) once for the whole run and moved back afterwards, instead of swapping
        states around every DEAP call; the sequence of draws, hence the formula, is the same."""
        saved, own = random.getstate(), self.rng
        random.setstate(own.getstate())
        self.rng, self._holding_global = random, True  # type: ignore[assignment]
        try:
            return self._run()
        finally:
            own.setstate(random.getstate())
            self.rng, self._holding_global = own, False
            random.setstate(saved)

    def _run(self) -> dict[str, Any]:
        c = self.cfg
        pop = [self._new(c.init_min_depth, c.init_max_depth) for _ in range(c.population)]
        self.evaluate(pop)
        hof: Any = tools.ParetoFront() if self.mo else tools.HallOfFame(max(1, c.hall_of_fame))
        hof.update(pop)
        history = [self._record(0, pop, 0.0)]
        t0 = time.perf_counter()
        with Progress(c.generations, f"evolve seed {self.seed}", unit="gen") as bar:
            for gen in range(1, c.generations + 1):
                rank = [(i.fitness.values[0], -len(i)) for i in pop]
                off = [self._offspring(pop, rank) for _ in range(c.population)]
                self.evaluate(off)
                if self.mo:
                    pop = tools.selNSGA2(pop + off, c.population)
                else:
                    elite = sorted(pop, key=lambda i: (i.fitness.values[0], -len(i)), reverse=True)[: c.elitism]
                    pop = [self.ind_cls(e) for e in elite] + off[: c.population - len(elite)]
                    for e, new in zip(elite, pop, strict=False):
                        new.fitness.values = e.fitness.values
                hof.update(pop)
                history.append(self._record(gen, pop, time.perf_counter() - t0))
                bar.advance(best=f"{history[-1]['best']:.4f}")
        return self._result(hof, history)

    def _record(self, gen: int, pop: Sequence[gp.PrimitiveTree], seconds: float) -> dict[str, Any]:
        fit = np.array([i.fitness.values[0] for i in pop])
        size = np.array([len(i) for i in pop])
        b = int(np.argmax(fit))
        return {
            "gen": gen,
            "best": float(fit[b]),
            "mean": float(fit.mean()),
            "median": float(np.median(fit)),
            "mean_size": float(size.mean()),
            "best_size": int(size[b]),
            "nevals": self.nevals,
            "seconds": round(seconds, 4),
        }

    def _result(self, hof: Any, history: list[dict[str, Any]]) -> dict[str, Any]:
        items = list(hof)
        fit = np.array([i.fitness.values[0] for i in items])
        size = np.array([len(i) for i in items], dtype=float)
        if self.mo:
            order = np.lexsort((size, -fit))
            items, fit, size = [items[k] for k in order], fit[order], size[order]
            pick = knee_index(fit, size) if self.cfg.select == "knee" else 0
            pareto = [
                {"formula": tree_to_ast(i), "text": str(i), "fitness": float(f), "size": int(s)}
                for i, f, s in zip(items, fit, size, strict=True)
            ]
        else:
            pick, pareto = 0, None
        return {
            "ast": tree_to_ast(items[pick]),
            "train_fitness": float(fit[pick]),
            "history": history,
            "pareto": pareto,
            "terminals": self.terminals,
        }


def per_problem_scores(formula: Formula, table: ProblemTable, split_cfg: SplitConfig) -> dict[str, Any]:
    """Train and test n, Kendall tau-b and Spearman rho of a formula on one problem's shared split."""
    out = {}
    parts = split(table, split_cfg.n_train, split_cfg.seed, split_cfg.max_train_fraction)
    for name, part in zip(("train", "test"), parts, strict=True):
        s, y = formula.evaluate_table(part), part.target
        out[name] = {"n": n_scored(y), "kendall": kendall(s, y), "spearman": spearman(s, y)}
    return out


def evolve(
    tables: Sequence[ProblemTable],
    cfg: SRConfig | dict[str, Any] | None = None,
    seed: int = 0,
    split_cfg: SplitConfig | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run GP on the training splits of ``tables``; return the FormulaRun dict (see :mod:`evoproxy.sr.formula`)."""
    cfg = cfg if isinstance(cfg, SRConfig) else SRConfig.from_dict(cfg)
    if not tables:
        raise ValueError("evolve: no training problems")
    split_cfg = split_cfg if isinstance(split_cfg, SplitConfig) else SplitConfig.from_dict(split_cfg)
    t0 = time.perf_counter()
    s = split_cfg
    train = [ProblemData.from_table(split(t, s.n_train, s.seed, s.max_train_fraction)[0], cfg.transform)
             for t in tables]
    if cfg.backend == "pysr":
        from evoproxy.sr.pysr_backend import evolve_pysr

        res = evolve_pysr(cfg, train, seed)
    else:
        res = Engine(cfg, train, seed).run()
    formula = Formula.from_ast(res["ast"], transform=cfg.transform)
    per_problem = {t.id: per_problem_scores(formula, t, split_cfg) for t in tables}
    run = {
        **formula.to_dict(),
        "fitness": {
            "metric": cfg.metric,
            "aggregate": cfg.aggregate,
            "train_fitness": res["train_fitness"],
            "per_problem": per_problem,
        },
        "split": split_cfg.to_dict(),
        "trainset": [t.id for t in tables],
        "terminals": res["terminals"],
        "config": cfg.to_dict(),
        "seed": seed,
        "versions": {
            "evoproxy": evoproxy.__version__,
            "deap": deap.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "history": res["history"],
    }
    if res.get("pareto") is not None:
        run["pareto"] = res["pareto"]
    run["wall_seconds"] = round(time.perf_counter() - t0, 3)
    return run
