"""Evaluation protocols: which problems a formula is evolved on and which it is tested on.

- ``multi``: one training set, ``all`` = every configured problem (the paper's dataset D); tested on all of them.
- ``single``: one training set per problem, named ``<space>__<task>``; tested on every problem (transfer matrix).
- ``loso``: leave one search space out, named ``no_<space>``; tested on the held-out space's problems only.
- ``lopo``: leave one problem out, named ``no_<space>__<task>``: trained on every other problem, tested on the
  held-out problem only (a problem never seen, possibly of a space seen through its other tasks).
- ``loto``: leave one task out within its space, named ``no_<space>__<task>`` like lopo but trained only on the
  other tasks of the same space (how well a space's own tasks predict a new one); spaces with one task have none.

The generalisation protocols (``loso``, ``lopo``, ``loto``) test only on problems their training set never saw.
"""

from __future__ import annotations

PROTOCOLS: tuple[str, ...] = ("multi", "single", "loso", "lopo", "loto")
GENERALISATION: tuple[str, ...] = ("loso", "lopo", "loto")
"""Protocols whose test problems are never seen in training."""


def _space(pid: str) -> str:
    return pid.split("/", 1)[0]


def _name(pid: str) -> str:
    return pid.replace("/", "__")


def trainsets(protocol: str, problems: list[str]) -> dict[str, list[str]]:
    """Training sets of ``protocol`` over ``problems``: ``{trainset name: [problem ids]}``."""
    if protocol == "multi":
        return {"all": list(problems)}
    if protocol == "single":
        return {_name(p): [p] for p in problems}
    if protocol == "loso":
        spaces = list(dict.fromkeys(_space(p) for p in problems))
        if len(spaces) < 2:
            return {}
        return {f"no_{s}": [p for p in problems if _space(p) != s] for s in spaces}
    if protocol == "lopo":
        if len(problems) < 2:
            return {}
        return {f"no_{_name(p)}": [q for q in problems if q != p] for p in problems}
    if protocol == "loto":
        out = {}
        for p in problems:
            same = [q for q in problems if _space(q) == _space(p) and q != p]
            if same:
                out[f"no_{_name(p)}"] = same
        return out
    raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def evaluation_problems(protocol: str, train: list[str], problems: list[str]) -> list[str]:
    """Problems a formula of ``protocol`` trained on ``train`` is tested on."""
    held_out = [p for p in problems if p not in set(train)]
    if protocol in ("loso", "lopo"):
        return held_out
    if protocol == "loto":  # the one task of the training set's space that it leaves out
        spaces = {_space(q) for q in train}
        return [p for p in held_out if _space(p) in spaces]
    return list(problems)


def supervised_cases(test_ids: list[str], seed: int) -> list[tuple[str, int]]:
    """The supervised references (problem, model seed) an evaluation over ``test_ids`` uses: test problem ``k`` gets
    seed ``seed + k``. The same case gives the same reference in every evaluation, so it is fitted once."""
    return [(pid, seed + k) for k, pid in enumerate(test_ids)]
