"""Evaluation protocols: which problems a formula is evolved on and which it is tested on.

- ``multi``: one training set, ``all`` = every configured problem (the paper's dataset D); tested on all of them.
- ``single``: one training set per problem, named ``<space>__<task>``; tested on every problem (transfer matrix).
- ``loso``: leave one search space out, named ``no_<space>``; tested on the held-out space's problems only.
"""

from __future__ import annotations

PROTOCOLS: tuple[str, ...] = ("multi", "single", "loso")


def trainsets(protocol: str, problems: list[str]) -> dict[str, list[str]]:
    """Training sets of ``protocol`` over ``problems``: ``{trainset name: [problem ids]}``."""
    if protocol == "multi":
        return {"all": list(problems)}
    if protocol == "single":
        return {p.replace("/", "__"): [p] for p in problems}
    if protocol == "loso":
        spaces = list(dict.fromkeys(p.split("/", 1)[0] for p in problems))
        if len(spaces) < 2:
            return {}
        return {f"no_{s}": [p for p in problems if p.split("/", 1)[0] != s] for s in spaces}
    raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def evaluation_problems(protocol: str, train: list[str], problems: list[str]) -> list[str]:
    """Problems a formula of ``protocol`` trained on ``train`` is tested on."""
    if protocol == "loso":
        return [p for p in problems if p not in set(train)]
    return list(problems)
