"""The pipeline's config schema (``config.schema.yaml``, package data; ``workflow/schemas/`` links to it).

It is the one place of every default: Snakemake validates and fills the config with it, and the library reads the
defaults of its sections from it (:func:`defaults`), so ``evoproxy evolve`` without ``--config`` runs exactly what
``config/config.yaml`` runs. Stdlib and PyYAML only: the workflow imports it while building the DAG.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

FILE = "config.schema.yaml"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The parsed schema."""
    import yaml

    return yaml.safe_load(resources.files("evoproxy").joinpath(FILE).read_text())


def defaults(section: str) -> dict[str, Any]:
    """``{key: default}`` of a config section's properties (keys without a default are left out)."""
    props = schema()["properties"][section]["properties"]
    return {k: v["default"] for k, v in props.items() if "default" in v}


def keys(section: str) -> list[str]:
    """Every key a config section may have."""
    return list(schema()["properties"][section]["properties"])
