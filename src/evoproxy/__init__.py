"""evoproxy: evolve training-free (zero-cost) performance predictors for NAS by genetic programming."""

from __future__ import annotations

__version__ = "0.1.0"

PROXIES: tuple[str, ...] = (
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "l2_norm",
    "nwot",
    "params",
    "plain",
    "snip",
    "synflow",
    "zen",
)
"""The 13 zero-cost proxies of NAS-Bench-Suite-Zero, in the release's (alphabetical) order."""


def load_formula(path):  # noqa: ANN001, ANN201 - thin re-export, typed in evoproxy.sr.formula
    """Load a saved FormulaRun JSON (see :mod:`evoproxy.sr.formula`)."""
    from evoproxy.sr.formula import load_formula as _load

    return _load(path)


def pretrained():  # noqa: ANN201 - thin re-export, typed in evoproxy.shipped
    """The shipped recommended proxy, evolved on all 13 problems (see :mod:`evoproxy.shipped`)."""
    from evoproxy.shipped import pretrained as _pretrained

    return _pretrained()


def pretrained_provenance() -> dict:
    """Data sha256, config, seeds and git revision of the shipped proxy."""
    from evoproxy.shipped import provenance

    return provenance()


__all__ = ["PROXIES", "__version__", "load_formula", "pretrained", "pretrained_provenance"]
