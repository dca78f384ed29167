"""Named GP methods (``sr.preset``): the recommended method and the paper's exact one, defined once.

``recommended`` is the schema's defaults (:mod:`evoproxy.schema`); ``paper`` is Phan & Luong 2025: raw proxy
terminals, the function set {add, sub, mul, neg, div, log, sqrt}, mean Kendall tau over problems, tournament selection, no parsimony, offspring may repeat trees, the run with the best training
fitness, initial trees of depth 2-10. A preset is expanded before explicit keys, so explicit keys always win.
Stdlib only: the workflow expands presets while building the DAG.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PAPER_FUNCTIONS: tuple[str, ...] = ("add", "sub", "mul", "neg", "div", "log", "sqrt")
"""The paper's function set (gplearn's protected versions); the schema's default adds min and max."""

PRESETS: dict[str, dict[str, Any]] = {
    "recommended": {},
    "paper": {
        "transform": "none",
        "metric": "kendall",
        "aggregate": "mean",
        "selection": "tournament",
        "parsimony": 0.0,
        "distinct_offspring": 0,
        "masked_proxies": 0,
        "specialist_metric": "same",
        "validation": "none",
        "final": "best",
        "rank_runs_by": "train_fitness",
        "init_min_depth": 2,
        "init_max_depth": 10,
        "max_depth": 6,
        "multiobjective": False,
        "functions": list(PAPER_FUNCTIONS),
    },
}


def expand_preset(sr: Mapping[str, Any] | None) -> dict[str, Any]:
    """``sr`` with the keys of its ``preset`` filled in underneath the keys it sets itself."""
    sr = dict(sr or {})
    name = sr.get("preset", "recommended")
    if name not in PRESETS:
        raise ValueError(f"sr.preset: unknown method {name!r}; known: {', '.join(PRESETS)}")
    return {**PRESETS[name], **sr}
