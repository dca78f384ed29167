"""The proxies give the values recorded in tests/data/proxy_reference.json (see tests/data/proxy_reference.py).

The fixture was computed with the implementation before the pass registry and the speed work; this test keeps
every proxy's value per (network, batch, seed, split_data) unchanged through refactors. The values of the machine's
CPU kernel family (AVX512, AVX2, ...) agree to a relative ``REL`` (plus ``ABS`` for values near 0), looser for the
signed sums plain and grasp, whose cancellation amplifies float32 rounding (the torch thread count alone moves them
by up to 6e-5 relative, the others by < 1e-7). Changes of float32 summation order move the last bits; a definition
change moves values by far more. On a family the fixture has no set for, the values are compared with a recorded
family's to ``REL_OTHER_CPU`` (its kernels sum in another order, which moves the gradient proxies by up to 8% on
the deepest case) and the test says how to record the family's own set.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("proxy_reference", HERE / "data" / "proxy_reference.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

REL = 1e-6
REL_SIGNED = {"plain": 1e-4, "grasp": 1e-4}
ABS = 1e-9
REL_OTHER_CPU = 0.15
SETS = json.loads(ref.FIXTURE.read_text())["cases_by_cpu"]
FAMILY = ref.cpu_family()
FIXTURE = SETS.get(FAMILY) or next(iter(SETS.values()))


def _params() -> list:
    out = []
    for case in ref.CASES:
        marks = [pytest.mark.slow] if case.get("slow") else []
        for seed, split in ref.runs(case):
            out.append(pytest.param(case, seed, split, id=f"{case['id']}-seed{seed}-split{split}", marks=marks))
    return out


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_fixture_covers_every_case():
    want = sorted(f"{c['id']}|seed={s}|split={sp}" for c in ref.CASES for s, sp in ref.runs(c))
    assert all(sorted(cases) == want for cases in SETS.values())


@pytest.mark.parametrize(("case", "seed", "split"), _params())
def test_values_equal_the_reference(case, seed, split, one_thread):
    want = FIXTURE[f"{case['id']}|seed={seed}|split={split}"]
    got = ref.compute_case(case, seed, split)
    assert sorted(got) == sorted(want)
    rel = {p: REL_SIGNED.get(p, REL) if FAMILY in SETS else REL_OTHER_CPU for p in want}
    bad = {p: (got[p], want[p]) for p in want
           if not (math.isclose(got[p], want[p], rel_tol=rel[p], abs_tol=ABS)
                   or (math.isnan(got[p]) and math.isnan(want[p])))}
    where = "" if FAMILY in SETS else (f" (no values recorded for this machine's CPU kernels, {FAMILY}: compared with "
                                       "another family's; record them with tests/data/proxy_reference.py)")
    assert not bad, f"values moved (got, reference){where}: {bad}"
