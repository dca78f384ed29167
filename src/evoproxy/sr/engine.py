"""The GP loop (DEAP): evolve a proxy formula maximising an aggregated rank correlation on the training splits.

Variation follows gplearn's scheme: each offspring comes from exactly one operator drawn with the configured
probabilities (one-point crossover, subtree / hoist / point mutation, reproduction) applied to selected parents;
``gp.staticLimit`` rejects an offspring deeper than ``max_depth`` (or larger than ``max_size``) and keeps a parent
instead. Parents are chosen by tournament (``tools.selTournament``) or by automatic epsilon-lexicase over the
aggregate's cases (``tools.selAutomaticEpsilonLexicase``: problems, or search spaces with ``space_mean``). Fitness is
``(aggregate - parsimony * size, size)`` compared lexicographically, so equal scores prefer the smaller tree. With
``multiobjective: true`` survival is NSGA-II (``selNSGA2``, mu + lambda) on (aggregate, size) and the run stores the
Pareto front. Every random draw comes from the global ``random`` seeded inside :func:`seeded_random` (DEAP's
operators draw from it), so the same seed, config and data give the identical formula. With ``masked_proxies: k``
each training problem is also scored as a twin lacking ``k`` of the terminals (the missing-proxy rule; which ones is
a seeded permutation, :func:`~evoproxy.sr.fitness.mask_plan`) and its score is the mean of both.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import platform
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
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
from evoproxy.sr.descriptor import descriptor_of
from evoproxy.sr.fitness import (
    ProblemData,
    aggregate,
    case_groups,
    mask_plan,
    masked,
    outputs,
    prefix_outputs,
    score_matrix,
    score_outputs,
    stack,
)
from evoproxy.sr.formula import Ast, Formula

log = logging.getLogger(__name__)

def _copy_tree(self: gp.PrimitiveTree, memo: dict | None = None) -> gp.PrimitiveTree:
    """A copy sharing the (immutable) primitive nodes, with a copy of the fitness: what ``copy.deepcopy`` (DEAP's
    ``toolbox.clone``, ``gp.staticLimit``) gives, without deep-copying node by node or running the creator's
    per-instance initialisation."""
    new = list.__new__(self.__class__)
    list.extend(new, self)
    fitness_class = type(self.fitness)
    new.fitness = fitness_class.__new__(fitness_class)
    new.fitness.wvalues = self.fitness.wvalues  # tuples: sharing them is a copy
    return new


def tree_height(tree: gp.PrimitiveTree) -> int:
    """``PrimitiveTree.height`` (the depth of the deepest node; a lone terminal has 0), computed in one pass without
    its per-node ``max`` call: the depth limit's key, evaluated on every offspring."""
    stack = [0]
    pop, extend = stack.pop, stack.extend
    best = 0
    for node in tree:
        depth = pop()
        if depth > best:
            best = depth
        if node.arity:
            extend([depth + 1] * node.arity)
    return best


if not hasattr(creator, "EvoFitness"):
    creator.create("EvoFitness", base.Fitness, weights=(1.0, -1.0))
    creator.create("EvoTree", gp.PrimitiveTree, fitness=creator.EvoFitness, __deepcopy__=_copy_tree)


@contextlib.contextmanager
def seeded_random(seed: int) -> Iterator[None]:
    """Seed the global ``random`` (which DEAP's generators, operators and selections draw from) for a block, and
    restore the caller's state afterwards."""
    saved = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(saved)


def build_pset(functions: Sequence[str], terminals: Sequence[str]) -> gp.PrimitiveSet:
    """DEAP primitive set: the chosen functions, one argument per proxy terminal, no constants."""
    pset = gp.PrimitiveSet("PROXY", len(terminals))
    pset.renameArguments(**{f"ARG{i}": t for i, t in enumerate(terminals)})
    for name in functions:
        p = primitives.get(name)
        pset.addPrimitive(p.fn, p.arity, name=name)
    return pset


def tree_key(tree: gp.PrimitiveTree) -> tuple[int, ...]:
    """What identifies a tree within a run: its nodes, each one of the primitive set's shared objects, by identity."""
    return tuple(map(id, tree))


def tree_to_ast(tree: gp.PrimitiveTree) -> Ast:
    """Prefix DEAP tree -> nested AST."""
    stack_: list[list[Any]] = []
    root: Ast | None = None
    for node in tree:
        item: Ast = ["proxy", node.value] if isinstance(node, gp.Terminal) else [node.name]
        if stack_:
            stack_[-1][0].append(item)
            stack_[-1][1] -= 1
        else:
            root = item
        if not isinstance(node, gp.Terminal) and node.arity > 0:
            stack_.append([item, node.arity])
        while stack_ and stack_[-1][1] == 0:
            stack_.pop()
    assert root is not None
    return root


def hoist(tree: gp.PrimitiveTree) -> tuple[gp.PrimitiveTree]:
    """Hoist mutation: replace a random subtree by a random subtree of itself (shrinks the tree)."""
    i = random.randrange(len(tree))
    sl = tree.searchSubtree(i)
    sub = gp.PrimitiveTree(tree[sl])
    j = random.randrange(len(sub))
    tree[sl] = sub[sub.searchSubtree(j)]
    return (tree,)


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
        self.terminals = choose_terminals(cfg, self.train)
        self.pset = build_pset(cfg.functions, self.terminals)
        self.masks = mask_plan([d.pid for d in self.train], self.terminals, cfg.masked_proxies, seed)
        twins = [masked(d, self.masks[d.pid]) for d in self.train] if self.masks else []
        self.scored = self.train + twins  # the problems, then their masked twins (in the same order)
        self.stacked = stack(self.scored)
        self.groups = case_groups([d.pid for d in self.train], cfg.aggregate)
        # every node of every tree is one of the primitive set's shared objects: label them once by identity
        nodes = [n for group in (*self.pset.primitives.values(), *self.pset.terminals.values()) for n in group]
        self.labels = {id(n): (n.value if isinstance(n, gp.Terminal) else n.name, n.arity) for n in nodes}
        self.nodes = {id(n): n for n in nodes}
        self.champions: list[tuple[float, float, tuple[int, ...]] | None] | None = (
            [None] * len(self.train) if cfg.final == "gated" else None)
        self.cache: dict[tuple[int, ...], tuple[float, np.ndarray]] = {}
        self.nevals = 0
        self.toolbox = self._toolbox()
        self._cum_probs = np.cumsum([cfg.p_crossover, cfg.p_subtree, cfg.p_hoist, cfg.p_point,
                                     cfg.p_reproduction]).tolist()

    def _toolbox(self) -> base.Toolbox:
        c, tb = self.cfg, base.Toolbox()
        tb.register("clone", _copy_tree)  # = copy.deepcopy (DEAP's default clone) without its memo bookkeeping
        tb.register("individual", lambda: creator.EvoTree(gp.genHalfAndHalf(self.pset, c.init_min_depth,
                                                                             c.init_max_depth)))
        tb.register("crossover", gp.cxOnePoint)
        tb.register("subtree", gp.mutUniform, expr=lambda pset, type_: gp.genGrow(pset, 0, c.subtree_max_depth, type_),
                    pset=self.pset)
        tb.register("point", gp.mutNodeReplacement, pset=self.pset)
        limits = [gp.staticLimit(key=tree_height, max_value=c.max_depth)]
        if c.max_size > 0:
            limits.append(gp.staticLimit(key=len, max_value=c.max_size))
        for name in ("crossover", "subtree", "point"):
            for limit in limits:
                tb.decorate(name, limit)
        tb.register("hoist", hoist)  # only shrinks: never beyond a limit
        return tb

    # --------------------------------------------------------------------------------------------- fitness
    def evaluate(self, pop: Sequence[gp.PrimitiveTree]) -> None:
        """Fitness of every individual without one; each distinct tree (key: its node sequence) is scored once per
        run, all new trees of a generation in one batched evaluation and ranking."""
        todo = [ind for ind in pop if not ind.fitness.valid]
        keys = [tree_key(ind) for ind in todo]
        new = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if new:
            labels = self.labels
            out = prefix_outputs([[labels[i] for i in k] for k in new], self.stacked)
            per_problem = self.per_problem(out, self.cfg.metric)
            fit = aggregate(per_problem, self.cfg.aggregate, self.groups)
            cases = _case_scores(per_problem, self.groups)
            self.nevals += len(new)
            for k, f, cs in zip(new, fit, cases, strict=True):
                self.cache[k] = (float(f), cs)
            if self.champions is not None:  # the specialists of a gated final proxy, at no extra tree evaluation
                metric = self.cfg.champion_metric
                on = per_problem if metric == self.cfg.metric else self.per_problem(out, metric)
                update_champions(self.champions, new, on, [len(k) for k in new], self.cfg.parsimony)
        penalty = self.cfg.parsimony
        for k, ind in zip(keys, todo, strict=True):
            ind.fitness.values = (self.cache[k][0] - penalty * len(ind), len(ind))

    def per_problem(self, out: np.ndarray, metric: str) -> np.ndarray:
        """(m, P) ``metric`` of output rows on each training problem; with masked twins, a problem's score is the
        mean of its own and its twin's."""
        scores = score_outputs(out, self.scored, metric)
        if self.masks:
            half = len(self.train)
            scores = (scores[:, :half] + scores[:, half:]) / 2.0
        return scores

    def specialists(self) -> list[dict[str, Any]]:
        """Per training problem, the tree with the best score on it alone (less the parsimony penalty) among every tree
        the run has scored (:func:`update_champions`): problem, formula, train score, size."""
        out = []
        for d, champ in zip(self.train, self.champions or [], strict=False):
            if champ is not None:
                tree = gp.PrimitiveTree([self.nodes[i] for i in champ[2]])
                out.append({"problem": d.pid, "formula": tree_to_ast(tree), "train_score": champ[1],
                            "size": len(tree)})
        return out

    def raw_fitness(self, ind: gp.PrimitiveTree) -> float:
        """The aggregate metric of a tree without the parsimony penalty."""
        return self.cache[tree_key(ind)][0]

    # ------------------------------------------------------------------------------------------- selection
    def select(self, pop: Sequence[gp.PrimitiveTree], k: int) -> list[gp.PrimitiveTree]:
        if self.cfg.selection == "lexicase":
            cases = np.stack([self.cache[tree_key(ind)][1] for ind in pop])
            return [pop[i] for i in lexicase(cases, k)]
        # wvalues (the weighted values) order individuals exactly as their Fitness objects do, compared in C
        return tools.selTournament(pop, k, tournsize=self.cfg.tournament_size, fit_attr="fitness.wvalues")

    def _offspring(self, pop: Sequence[gp.PrimitiveTree]) -> gp.PrimitiveTree:
        op = bisect.bisect_right(self._cum_probs, random.random() * self._cum_probs[-1])
        (parent,) = self.select(pop, 1)
        child = self.toolbox.clone(parent)
        if op == 0:
            donor = self.toolbox.clone(self.select(pop, 1)[0])
            child, _ = self.toolbox.crossover(child, donor)
        elif op == 1:
            (child,) = self.toolbox.subtree(child)
        elif op == 2:
            (child,) = self.toolbox.hoist(child)
        elif op == 3:
            (child,) = self.toolbox.point(child)
        else:
            return child  # reproduction keeps the parent's fitness
        del child.fitness.values  # re-scored from the cache when the tree is unchanged
        return child

    def _generation(self, pop: Sequence[gp.PrimitiveTree], n: int, taken: set[tuple[int, ...]]
                    ) -> list[gp.PrimitiveTree]:
        """``n`` offspring; with ``distinct_offspring: k``, one that repeats a tree of the new generation (``taken``:
        the elite) is redrawn up to ``k`` times, so the population cannot collapse onto copies of one tree."""
        out = []
        for _ in range(n):
            child = self._offspring(pop)
            for _ in range(self.cfg.distinct_offspring):
                if tree_key(child) not in taken:
                    break
                child = self._offspring(pop)
            taken.add(tree_key(child))
            out.append(child)
        return out

    # ------------------------------------------------------------------------------------------------ loop
    def run(self) -> dict[str, Any]:
        """Evolve and return the engine's result fields (ast, train_fitness, history, pareto, terminals)."""
        with seeded_random(self.seed):
            return self._run()

    def _run(self) -> dict[str, Any]:
        c = self.cfg
        pop = [self.toolbox.individual() for _ in range(c.population)]
        self.evaluate(pop)
        hof: Any = tools.ParetoFront() if c.multiobjective else tools.HallOfFame(max(1, c.hall_of_fame))
        hof.update(pop)
        stats = tools.Statistics(key=lambda ind: ind.fitness.values[0])
        for name, fn in (("best", np.max), ("mean", np.mean), ("median", np.median)):
            stats.register(name, fn)
        book = tools.Logbook()
        self._record(book, stats, 0, pop, 0.0)
        t0 = time.perf_counter()
        with Progress(c.generations, f"evolve seed {self.seed}", unit="gen") as bar:
            for gen in range(1, c.generations + 1):
                elite = [] if c.multiobjective else [self.toolbox.clone(e) for e in tools.selBest(pop, c.elitism)]
                # as many offspring as the population; a single-objective run keeps the first after the elite
                off = self._generation(pop, c.population, {tree_key(e) for e in elite})
                self.evaluate(off)
                if c.multiobjective:
                    pop = tools.selNSGA2(pop + off, c.population)
                else:
                    pop = elite + off[: c.population - len(elite)]
                hof.update(pop)
                self._record(book, stats, gen, pop, time.perf_counter() - t0)
                bar.advance(best=f"{book[-1]['best']:.4f}")
        return self._result(hof, list(book))

    def _record(self, book: tools.Logbook, stats: tools.Statistics, gen: int, pop: Sequence[gp.PrimitiveTree],
                seconds: float) -> None:
        best = tools.selBest(pop, 1)[0]
        book.record(gen=gen, **{k: float(v) for k, v in stats.compile(pop).items()},
                    mean_size=float(np.mean([len(i) for i in pop])), best_size=len(best), nevals=self.nevals,
                    seconds=round(seconds, 4))

    def _result(self, hof: Any, history: list[dict[str, Any]]) -> dict[str, Any]:
        items = list(hof)
        raw = np.array([self.raw_fitness(i) for i in items])
        size = np.array([len(i) for i in items], dtype=float)
        if self.cfg.multiobjective:
            order = np.lexsort((size, -raw))
            items, raw, size = [items[k] for k in order], raw[order], size[order]
            pick = knee_index(raw, size) if self.cfg.select == "knee" else 0
            pareto = [{"formula": tree_to_ast(i), "text": str(i), "fitness": float(f), "size": int(s)}
                      for i, f, s in zip(items, raw, size, strict=True)]
        else:
            pick, pareto = 0, None
        return {
            "ast": tree_to_ast(items[pick]),
            "train_fitness": float(raw[pick]),
            "objective": float(items[pick].fitness.values[0]),
            "history": history,
            "pareto": pareto,
            "hall_of_fame": [{"formula": tree_to_ast(i), "fitness": float(f), "size": int(s)}
                             for i, f, s in zip(items, raw, size, strict=True)],
            "terminals": self.terminals,
            "specialists": self.specialists() if self.champions is not None else None,
            "masks": self.masks or None,
        }


def update_champions(champions: list[Any], items: Sequence[Any], per_problem: np.ndarray, sizes: Sequence[int],
                     parsimony: float) -> None:
    """Per problem (column of ``per_problem``), keep in ``champions`` the ``(adjusted, score, item)`` of the item with
    the best score less ``parsimony`` per node, over these ``items`` (rows) and those seen before (first wins ties)."""
    size = np.asarray(sizes, dtype=np.float64)
    adjusted = np.where(np.isfinite(per_problem), per_problem - parsimony * size[:, None], -np.inf)
    for j, i in enumerate(np.argmax(adjusted, axis=0)):
        best = champions[j]
        if np.isfinite(adjusted[i, j]) and (best is None or adjusted[i, j] > best[0]):
            champions[j] = (float(adjusted[i, j]), float(per_problem[i, j]), items[i])


def specialist_search(cfg: SRConfig, train: Sequence[ProblemData], seed: int,
                      found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The specialists when they are judged by another metric than the fitness (``specialist_metric``): a second
    search of the same budget and seed whose fitness is that metric, and per problem the better champion (its score
    less the parsimony penalty; the fitness search's on ties) of the two searches. The fitness search's trees alone
    rarely include what orders one problem's top, and its formula is unchanged."""
    second = Engine(replace(cfg, metric=cfg.champion_metric, specialist_metric="same"), train, seed).run()
    theirs = {s["problem"]: s for s in second["specialists"]}
    out = []
    for s in found:
        t = theirs.get(s["problem"])
        better = t is not None and (t["train_score"] - cfg.parsimony * t["size"]
                                    > s["train_score"] - cfg.parsimony * s["size"])
        out.append({**(t if better else s), "search": "specialist" if better else "fitness"})
    return out


def specialists_among(asts: Sequence[Ast], train: Sequence[ProblemData], cfg: SRConfig) -> list[dict[str, Any]]:
    """The per-problem champions among candidate formulas (for a backend that returns candidates, not every tree it
    scored): as :meth:`Engine.specialists`."""
    champions: list[Any] = [None] * len(train)
    sizes = [Formula.from_ast(a).size for a in asts]
    update_champions(champions, list(range(len(asts))), score_matrix(list(asts), train, cfg.champion_metric), sizes,
                     cfg.parsimony)
    return [{"problem": d.pid, "formula": asts[c[2]], "train_score": c[1], "size": sizes[c[2]]}
            for d, c in zip(train, champions, strict=True) if c is not None]


def lexicase(cases: np.ndarray, k: int) -> list[int]:
    """Indices of ``k`` individuals chosen by automatic epsilon-lexicase selection, given each individual's score on
    every case (rows individuals, columns cases; higher is better).

    DEAP's ``tools.selAutomaticEpsilonLexicase`` step for step (the same draws from the global ``random``, the same
    median-absolute-deviation epsilon among the remaining candidates), on arrays instead of per-individual Python
    loops: the selections are identical (tested) and about 20x faster at population 100."""
    cases = np.asarray(cases, dtype=np.float64)
    out = []
    for _ in range(k):
        candidates = np.arange(cases.shape[0])
        order = list(range(cases.shape[1]))
        random.shuffle(order)
        for c in order:
            if len(candidates) <= 1:
                break
            vals = cases[candidates, c]
            mad = np.median(np.abs(vals - np.median(vals)))
            candidates = candidates[vals >= vals.max() - mad]
        out.append(int(random.choice(list(candidates))))
    return out


def _case_scores(per_problem: np.ndarray, groups: tuple[np.ndarray, list[str]]) -> np.ndarray:
    """(m, cases) scores of the aggregate's cases: per problem, or per search space (task mean) for space_mean."""
    index, names = groups
    if len(names) == per_problem.shape[1]:
        return per_problem
    return np.stack([per_problem[:, index == g].mean(axis=1) for g in range(len(names))], axis=1)


def validation_fold(scheme: str, pids: Sequence[str], seed: int) -> list[str]:
    """The training problems a run holds out for validation: fold ``seed mod K`` of the inner ``scheme`` (``loso``:
    one search space of the training set; ``lopo``: one problem); none with ``none`` or when the training set has
    fewer than two spaces (problems)."""
    if scheme == "none":
        return []
    from evoproxy.protocols import evaluation_problems, trainsets

    folds = [evaluation_problems(scheme, train, list(pids)) for train in trainsets(scheme, list(pids)).values()]
    return folds[seed % len(folds)] if folds else []


def _validate(cfg: SRConfig, res: dict[str, Any], fit_on: Sequence[ProblemData],
              held_out: Sequence[ProblemData]) -> dict[str, Any]:
    """Choose the run's formula among its hall of fame by validation score on the held-out training problems and
    record it with the same-fold score of the best single proxy chosen on the other problems (``gain``), so runs
    validated on different folds compare fairly."""
    candidates = [h["formula"] for h in res["hall_of_fame"]]
    pids = [d.pid for d in held_out]
    groups = case_groups(pids, cfg.aggregate)
    val = aggregate(score_outputs(outputs(candidates, stack(held_out)), held_out, cfg.metric), cfg.aggregate, groups)
    pick = int(np.argmax(val))  # ties: the better training fitness (hall of fame order)
    proxies = sorted({p for d in fit_on for p in d.columns} & {p for d in held_out for p in d.columns})
    fit_groups = case_groups([d.pid for d in fit_on], cfg.aggregate)
    singles = [["proxy", p] for p in proxies]
    on_train = aggregate(score_outputs(outputs(singles, stack(fit_on)), fit_on, cfg.metric), cfg.aggregate, fit_groups)
    best = int(np.argmax(on_train)) if singles else None
    base = (float(aggregate(score_outputs(outputs([singles[best]], stack(held_out)), held_out, cfg.metric),
                            cfg.aggregate, groups)[0]) if best is not None else 0.0)
    chosen = res["hall_of_fame"][pick]
    return {"ast": chosen["formula"], "train_fitness": chosen["fitness"],
            "validation": {"problems": pids, "fit_problems": [d.pid for d in fit_on], "score": float(val[pick]),
                           "baseline": proxies[best] if best is not None else None, "baseline_score": base,
                           "gain": float(val[pick]) - base, "candidates": len(candidates), "chosen": pick}}


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
    parts = [split(t, s.n_train, s.seed, s.max_train_fraction)[0] for t in tables]
    train = [ProblemData.from_table(part, cfg.transform) for part in parts]
    fold = validation_fold(cfg.validation, [d.pid for d in train], seed)
    fit_on = [d for d in train if d.pid not in fold]
    if cfg.backend == "pysr":
        from evoproxy.sr.pysr_backend import evolve_pysr

        res = evolve_pysr(cfg, fit_on, seed)
    else:
        res = Engine(cfg, fit_on, seed).run()
        if cfg.final == "gated" and cfg.champion_metric != cfg.metric:
            res["specialists"] = specialist_search(cfg, fit_on, seed, res["specialists"])
    if fold:
        res.update(_validate(cfg, res, fit_on, [d for d in train if d.pid in fold]))
    if cfg.final == "gated" and res.get("specialists") is None:
        res["specialists"] = specialists_among(res.get("candidates") or [res["ast"]], fit_on, cfg)
    if res.get("specialists") is not None:
        fingerprints = {part.id: descriptor_of(part) for part in parts}
        for sp in res["specialists"]:
            sp["descriptor"] = fingerprints[sp["problem"]]
    formula = Formula.from_ast(res["ast"], transform=cfg.transform)
    per_problem = {t.id: per_problem_scores(formula, t, split_cfg) for t in tables}
    run = {
        "kind": "formula",
        **formula.to_dict(),
        "fitness": {
            "metric": cfg.metric,
            "aggregate": cfg.aggregate,
            "train_fitness": res["train_fitness"],
            "objective": res.get("objective", res["train_fitness"]),
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
    for key in ("pareto", "hall_of_fame", "validation", "specialists", "masks"):
        if res.get(key) is not None:
            run[key] = res[key]
    run["wall_seconds"] = round(time.perf_counter() - t0, 3)
    return run
