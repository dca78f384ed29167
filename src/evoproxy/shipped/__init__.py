"""The recommended proxy, evolved on all 13 problems of NAS-Bench-Suite-Zero, shipped with its provenance (package data).

    import evoproxy
    proxy = evoproxy.pretrained()                       # the recommended method's final proxy (a Gated ensemble)
    proxy.proxies                                       # the zero-cost proxies it reads
    proxy.evaluate_table(table)                         # scores of every row of a ProblemTable (calibrated on it)
    proxy.score_model(net, x, y, reference=ref)         # one PyTorch model against a reference sample
    evoproxy.pretrained_provenance()                    # data sha256, config, seeds, git revision, date

Scoring one model needs a **reference sample**: the proxies of a few dozen random architectures of the same space
and task, computed with the same minibatch protocol — ``ProxyEvaluator(space, task).reference_sample(64,
proxy.proxies)``, a ProblemTable of them, or a mapping ``{proxy: array}`` of your own models' values; the proxy is
calibrated on it, so one model gets exactly the score its row would get in a table with that reference. The
reference also tells the gate which training problems the user's problem resembles (at least 10 rows; a far or tiny
reference leaves the general ensemble alone). Scoring a whole table needs nothing else: the table's rows are the
reference.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

FILE = "recommended.json"


@lru_cache(maxsize=1)
def _run() -> dict[str, Any]:
    import json

    text = resources.files(__name__).joinpath(FILE).read_text()
    return json.loads(text)


def pretrained() -> Any:
    """The shipped recommended proxy (what :func:`~evoproxy.sr.formula.scorer_from_run` builds from its run: a
    :class:`~evoproxy.sr.gated.Gated` proxy for the recommended method)."""
    from evoproxy.sr.formula import scorer_from_run

    return scorer_from_run(_run(), f"evoproxy.shipped/{FILE}")


def provenance() -> dict[str, Any]:
    """Where the shipped proxy comes from: data files and their sha256, config, seeds, git revision, date."""
    return dict(_run().get("provenance", {}))
