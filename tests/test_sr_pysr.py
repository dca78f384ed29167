"""PySR backend: a clear error without PySR/Julia; a real run only where Julia is available (not in CI)."""

from __future__ import annotations

import importlib.util

import pytest
from test_sr_engine import make_table

from evoproxy.sr.engine import evolve
from evoproxy.sr.pysr_backend import PySRUnavailable

HAVE_PYSR = importlib.util.find_spec("pysr") is not None


@pytest.mark.skipif(HAVE_PYSR, reason="PySR is installed: the missing-extra message cannot be observed")
def test_missing_pysr_gives_clear_message():
    with pytest.raises(PySRUnavailable, match=r"pip install -e '\.\[pysr\]'"):
        evolve([make_table("s1", "t", 60, 0)], {"backend": "pysr", "population": 10, "generations": 1})


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_PYSR, reason="PySR (and Julia) not installed: the pysr backend is not exercised here")
def test_pysr_run_produces_formula():
    run = evolve([make_table("s1", "t", 100, 0)], {"backend": "pysr", "population": 20, "generations": 3}, seed=0)
    assert run["formula"] and run["fitness"]["train_fitness"] > 0.3
