"""Transfer evaluation of an evolved proxy against every baseline on the same held-out test splits.

For each test problem (its test split per :func:`evoproxy.problems.split`) this scores:

- ``evolved``: the final proxy of the training set (any callable ``ProblemTable -> scores``);
- ``run``: each independent GP run of the training set on its own (``run_<seed>``) through the method's final rule
  (:func:`evoproxy.sr.select.one_run_proxy`: for a gated method, the gate built from that run alone), so the spread
  over seeds is reported next to the final proxy;
- ``handcrafted``: each of the 13 zero-cost proxies on its own;
- ``best_single``: the proxy with the highest mean Kendall tau on the *training* problems' train splits, among the
  proxies the test problem has (which proxies a table holds is known without labels; the ranking itself never looks
  at the test problem);
- ``ensemble``: mean rank of all proxies (``ensemble_all``) and of the top 3 on training (``ensemble_top3``, among
  the proxies the test problem has);
- ``supervised``: a HistGradientBoostingRegressor on the proxy values of ``n_supervised`` labelled archs drawn
  from the test problem's train split (an upper reference that uses labels; not zero-cost). It depends only on the
  test problem and its seed, so a pipeline fits each once (:func:`supervised_table`) and every evaluation reads it.

Bootstrap 95% percentile intervals (seeded resamples of the test archs) are computed on Kendall tau for the
evolved proxy and for the best single baseline; ``evolved_wins`` marks problems where the evolved interval lies
entirely above the baseline's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evoproxy import PROXIES
from evoproxy.fileio import atomic_path
from evoproxy.metrics import (
    MIN_ROWS,
    average_ranks,
    finite_rows,
    kendall_batch,
    kendall_bootstrap,
    n_scored,
    sanitize,
    spearman_batch,
    top_k_precision,
)
from evoproxy.problems import (
    TARGET,
    ProblemTable,
    SplitConfig,
    load_problem,
    load_problems,
    problem_ids,
    split,
)
from evoproxy.protocols import supervised_cases

COLUMNS = ["problem", "method", "kind", "n", "kendall", "spearman", "top5", "ci_low", "ci_high"]
Scorer = Callable[[ProblemTable], np.ndarray]


def bootstrap_kendall(
    x: np.ndarray, y: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float, np.ndarray]:
    """Percentile bootstrap interval of Kendall tau-b (resampling archs with replacement).

    Returns ``(low, high, taus)``. The same ``seed`` gives the same resample index matrix for every method of a
    problem, so intervals of two methods are paired.
    """
    n = n_scored(y)
    if n < MIN_ROWS or n_boot < 1:
        return float("nan"), float("nan"), np.empty(0)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    taus = kendall_bootstrap(x, y, idx)
    lo, hi = np.quantile(taus, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi), taus


def interval_below(high, low):
    """Significantly worse: a 95% interval whose top (``high``) lies under the other's bottom (``low``) (scalars or
    arrays). A win or loss between two proxies of a problem is counted by this one rule everywhere."""
    return np.asarray(high) < np.asarray(low)


def mean_rank(table: ProblemTable, proxies: Sequence[str]) -> np.ndarray:
    """Mean-rank ensemble: average of each proxy's rank (non-finite values rank last; absent proxies skipped)."""
    ranks = []
    for p in proxies:
        v = table.values(p)
        if not np.isfinite(v).any():
            continue
        ranks.append(average_ranks(sanitize(v)))
    if not ranks:
        return np.zeros(table.n)
    return np.mean(ranks, axis=0)


def rank_proxies_on_training(trains: Sequence[ProblemTable], proxies: Sequence[str] = PROXIES) -> pd.Series:
    """Mean Kendall tau of each proxy over the training problems' train splits, best first.

    A proxy absent from a problem counts as tau 0 there (it gives no ranking), so a proxy cannot win by being
    missing where it would do badly.
    """
    taus = np.zeros((len(proxies), max(len(trains), 1)))
    for j, tr in enumerate(trains):
        X = np.stack([tr.values(p) for p in proxies])
        taus[:, j] = kendall_batch(X, tr.target)
    return pd.Series(taus.mean(axis=1), index=list(proxies)).sort_values(ascending=False, kind="stable")


def _row(pid: str, method: str, kind: str, x: np.ndarray, y: np.ndarray) -> dict:
    if not np.isfinite(x).any():  # the problem lacks this proxy: no value (not a tau of 0)
        return {"problem": pid, "method": method, "kind": kind, "n": n_scored(y), "kendall": np.nan,
                "spearman": np.nan, "top5": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    return {
        "problem": pid, "method": method, "kind": kind, "n": n_scored(y),
        "kendall": float(kendall_batch(x[None], y)[0]), "spearman": float(spearman_batch(x[None], y)[0]),
        "top5": top_k_precision(x, y, 0.05), "ci_low": np.nan, "ci_high": np.nan,
    }


def supervised_scores(train: ProblemTable, test: ProblemTable, n_labelled: int, seed: int) -> np.ndarray:
    """HistGradientBoosting fit on the proxies of ``n_labelled`` labelled train archs; predictions on ``test``."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    feats = [p for p in PROXIES if np.isfinite(train.values(p)).any()]
    rng = np.random.default_rng(seed)
    labelled = np.flatnonzero(finite_rows(train.target))
    pick = labelled[rng.permutation(len(labelled))[: min(n_labelled, len(labelled))]]
    Xtr = np.stack([train.values(p)[pick] for p in feats], axis=1)
    Xtr = np.where(np.isfinite(Xtr), Xtr, np.nan)
    Xte = np.stack([test.values(p) for p in feats], axis=1)
    Xte = np.where(np.isfinite(Xte), Xte, np.nan)
    model = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=seed)
    # one OpenMP thread: on a shared/oversubscribed machine HGB's spinning threads cost 50x on 400 rows
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(Xtr, train.target[pick])
        return model.predict(Xte)


SUPERVISED_COLUMNS = ["problem", "seed", "n_supervised", "arch", "score"]
SUPERVISED_MIN_TRAIN = 10
"""Fewest train-split archs of a test problem for which the supervised reference is fitted."""
SupervisedCase = tuple[str, int]
"""A supervised reference: (test problem id, model seed); :func:`evoproxy.protocols.supervised_cases`."""
Supervised = Mapping[SupervisedCase, tuple[np.ndarray, np.ndarray]]
"""Precomputed supervised references: case -> (test archs, predictions)."""


def supervised_table(tables: Sequence[ProblemTable], cases: Sequence[SupervisedCase], n_supervised: int,
                     split_cfg: SplitConfig) -> pd.DataFrame:
    """The supervised reference's test-split predictions for each ``(problem, seed)`` case, computed once so that
    every evaluation testing on the same problem with the same seed reads them (:func:`load_supervised`) instead of
    refitting; the values are those :func:`evaluate` computes itself."""
    by_id = {t.id: t for t in tables}
    frames = []
    for pid, seed in dict.fromkeys(cases):
        if pid not in by_id:
            raise ValueError(f"supervised: no table for problem {pid!r} (have {', '.join(by_id)})")
        train, test = split(by_id[pid], split_cfg.n_train, split_cfg.seed, split_cfg.max_train_fraction)
        if train.n < SUPERVISED_MIN_TRAIN:
            continue
        frames.append(pd.DataFrame({"problem": pid, "seed": seed, "n_supervised": n_supervised,
                                    "arch": test.df["arch"].astype(str).to_numpy(),
                                    "score": supervised_scores(train, test, n_supervised, seed)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SUPERVISED_COLUMNS)


def load_supervised(path: str | os.PathLike[str], n_supervised: int) -> Supervised:
    """``(problem, seed) -> (archs, scores)`` of a :func:`supervised_table` file made with ``n_supervised``."""
    df = pd.read_parquet(path)
    missing = [c for c in SUPERVISED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a supervised-reference table (missing columns {missing})")
    other = sorted(set(df["n_supervised"].astype(int)) - {n_supervised})
    if other:
        raise ValueError(f"{path}: made with n_supervised {other}, but this evaluation uses {n_supervised}")
    return {(str(pid), int(seed)): (g["arch"].astype(str).to_numpy(), g["score"].to_numpy(dtype=np.float64))
            for (pid, seed), g in df.groupby(["problem", "seed"], sort=False)}


def evaluate(
    scorer: Scorer,
    train_problems: Sequence[ProblemTable],
    test_problems: Sequence[ProblemTable],
    n_train: int,
    split_seed: int,
    max_train_fraction: float = 0.5,
    n_boot: int = 1000,
    n_supervised: int = 400,
    seed: int = 0,
    runs: Sequence[tuple[str, Scorer]] = (),
    supervised: Supervised | None = None,
) -> pd.DataFrame:
    """Long table (one row per test problem x method) of the evolved proxy, its runs (``(name, scorer)``) and all
    baselines on test splits. ``supervised``: precomputed references (:func:`load_supervised`); a case it lacks is
    computed here."""
    trains = [split(t, n_train, split_seed, max_train_fraction)[0] for t in train_problems]
    ranking = list(rank_proxies_on_training(trains).index)
    rows: list[dict] = []
    cases = supervised_cases([t.id for t in test_problems], seed)
    for k, table in enumerate(test_problems):
        have = [p for p in ranking if p in set(table.proxies)] or ranking
        best, top3 = have[0], have[:3]
        train, test = split(table, n_train, split_seed, max_train_fraction)
        y = test.target
        pid = table.id
        boot_seed = seed * 1_000_003 + k
        x_evo = np.asarray(scorer(test), dtype=np.float64)
        if x_evo.shape != y.shape:
            raise ValueError(f"{pid}: the formula gave {x_evo.shape} scores for {y.shape[0]} test archs")
        r = _row(pid, "evolved", "evolved", x_evo, y)
        r["ci_low"], r["ci_high"], _ = bootstrap_kendall(x_evo, y, n_boot, boot_seed)
        rows.append(r)
        for name, run_scorer in runs:
            rows.append(_row(pid, name, "run", np.asarray(run_scorer(test), dtype=np.float64), y))
        for p in PROXIES:
            rows.append(_row(pid, p, "handcrafted", test.values(p), y))
        r = _row(pid, f"best_single({best})", "best_single", test.values(best), y)
        r["ci_low"], r["ci_high"], _ = bootstrap_kendall(test.values(best), y, n_boot, boot_seed)
        rows.append(r)
        rows.append(_row(pid, "ensemble_all", "ensemble", mean_rank(test, PROXIES), y))
        rows.append(_row(pid, "ensemble_top3", "ensemble", mean_rank(test, top3), y))
        if n_supervised > 0 and train.n >= SUPERVISED_MIN_TRAIN:
            if supervised is not None and cases[k] in supervised:
                archs, xs = supervised[cases[k]]
                if not np.array_equal(archs, test.df["arch"].astype(str).to_numpy()):
                    raise ValueError(f"{pid}: the precomputed supervised reference (seed {cases[k][1]}) was made "
                                     "on other test archs (another split?)")
            else:
                xs = supervised_scores(train, test, n_supervised, cases[k][1])
            rows.append(_row(pid, f"supervised_hgb({min(n_supervised, train.n)})", "supervised", xs, y))
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_file(
    formula_path: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    problems: str | Sequence[str] = "all",
    train_problems: str | Sequence[str] | None = None,
    runs: Sequence[str | os.PathLike[str]] = (),
    split: Mapping[str, Any] | None = None,
    n_boot: int = 1000,
    n_supervised: int = 400,
    seed: int = 0,
    protocol: str = "",
    trainset: str = "",
    protocol_kind: str = "",
    supervised: str | os.PathLike[str] | Supervised | None = None,
    tables: Mapping[str, ProblemTable] | None = None,
) -> pd.DataFrame:
    """:func:`evaluate` of a saved final proxy (and its run files) on the tables of ``data_dir``; the split defaults
    to the run's own, the training problems to its ``trainset``; protocol and trainset default to the file's folders
    (``.../<protocol>/<trainset>/best.json``). Each row also names the protocol's kind (``protocol_kind``, default:
    the protocol) and the GP method (``gp_method``: the run's preset). ``supervised``: a :func:`supervised_table`
    file (or its :func:`load_supervised` mapping) to read the supervised references from; ``tables``: problem
    tables already loaded from ``data_dir``, by id."""
    from evoproxy.fileio import read_json
    from evoproxy.sr.formula import load_formula
    from evoproxy.sr.select import one_run_proxy

    path = Path(formula_path)
    formula = load_formula(path)
    run = formula.run or {}
    train_ids = train_problems or run.get("trainset")
    if not train_ids:
        raise ValueError(f"{path}: no 'trainset' list and no --train-problems given")
    cfg = SplitConfig.from_dict({**(run.get("split") or {}), **(split or {})}, f"{path} split")
    if isinstance(supervised, (str, os.PathLike)):
        supervised = load_supervised(supervised, n_supervised)

    def load(ids: str | Sequence[str]) -> list[ProblemTable]:
        """The problems ``ids`` (as :func:`load_problems` takes them), from ``tables`` where it has them."""
        loaded = tables or {}
        return [loaded[i] if i in loaded else load_problem(data_dir, i) for i in problem_ids(data_dir, ids)]

    train_tables = load(train_ids)
    scorers = []
    for rp in runs:
        r = read_json(rp, "run file")
        scorers.append((f"run_{r.get('seed', Path(rp).stem)}", one_run_proxy(str(rp), r, train_tables).evaluate_table))
    df = evaluate(formula.evaluate_table, train_tables, load(problems),
                  n_train=cfg.n_train, split_seed=cfg.seed, max_train_fraction=cfg.max_train_fraction,
                  n_boot=n_boot, n_supervised=n_supervised, seed=seed, runs=scorers, supervised=supervised)
    df.insert(0, "trainset", trainset or path.parent.name)
    df.insert(0, "protocol", protocol or path.parent.parent.name)
    df["protocol_kind"] = protocol_kind or (protocol or path.parent.parent.name)
    df["gp_method"] = (run.get("config") or {}).get("preset", "recommended")
    df["formula"] = formula.text
    df.attrs = {}
    return df


def evaluate_trainsets(
    formula_pattern: str,
    trainsets: Sequence[str],
    data_dir: str | os.PathLike[str],
    problems: str | Sequence[str],
    protocol: str,
    protocol_kind: str = "",
    supervised: str | os.PathLike[str] | None = None,
    n_supervised: int = 400,
    **options: Any,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """:func:`evaluate_file` of every training set of a protocol in one process (the tables and the supervised
    references loaded once): the final proxy ``formula_pattern`` with ``{trainset}`` replaced, with the runs it was
    built from (its ``selected_from``), tested on the problems among ``problems`` that the protocol's kind tests it on
    (:func:`evoproxy.protocols.evaluation_problems`). Yields ``(trainset, evaluation)``, each as
    ``evaluate_file`` alone gives it."""
    from evoproxy.fileio import read_json
    from evoproxy.protocols import evaluation_problems

    tables = {t.id: t for t in load_problems(data_dir, problems)}
    refs = load_supervised(supervised, n_supervised) if supervised else None
    for trainset in trainsets:
        path = formula_pattern.replace("{trainset}", trainset)
        run = read_json(path, "final proxy")
        train = list(run.get("trainset") or [])
        runs = [c["path"] for c in run.get("selected_from") or []]
        test = evaluation_problems(protocol_kind or protocol, train, list(tables))
        yield trainset, evaluate_file(path, data_dir, test, runs=runs, protocol=protocol, trainset=trainset,
                                      protocol_kind=protocol_kind, supervised=refs, n_supervised=n_supervised,
                                      tables=tables, **options)


def write_evaluation(df: pd.DataFrame, out: str | os.PathLike[str]) -> None:
    """The long evaluation table as Parquet (atomic write)."""
    with atomic_path(out) as tmp:
        df.to_parquet(tmp, index=False)


def win_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Per problem: evolved vs best_single tau, their intervals and whether the evolved interval lies above."""
    evo = df[df["kind"] == "evolved"].set_index("problem")
    base = df[df["kind"] == "best_single"].set_index("problem")
    out = pd.DataFrame({
        "evolved": evo["kendall"], "evolved_low": evo["ci_low"], "evolved_high": evo["ci_high"],
        "baseline": base["method"], "baseline_tau": base["kendall"],
        "baseline_low": base["ci_low"], "baseline_high": base["ci_high"],
    })
    out["evolved_wins"] = interval_below(out["baseline_high"], out["evolved_low"])
    out["baseline_wins"] = interval_below(out["evolved_high"], out["baseline_low"])
    return out.reset_index()


__all__ = ["COLUMNS", "SUPERVISED_COLUMNS", "TARGET", "bootstrap_kendall", "evaluate", "evaluate_file", "interval_below",
           "evaluate_trainsets",
           "load_supervised", "mean_rank", "rank_proxies_on_training", "supervised_scores",
           "supervised_table", "win_counts", "write_evaluation"]
