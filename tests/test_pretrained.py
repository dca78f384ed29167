"""The shipped recommended proxy: loads from package data, carries its provenance, scores tables and single
PyTorch models (against a reference sample) exactly as its rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from test_sr_engine import make_table

import evoproxy
from evoproxy.problems import ProblemTable
from evoproxy.proxies import compute
from evoproxy.sr.formula import ColumnTable


def test_pretrained_proxy_and_provenance(mirror_dir) -> None:
    proxy = evoproxy.pretrained()
    prov = evoproxy.pretrained_provenance()
    assert proxy.transform == "ecdf" and set(proxy.proxies) <= set(evoproxy.PROXIES)
    assert len(prov["trainset"]) == 13 and prov["config"]["preset"] == "recommended"
    assert len(prov["git_revision"]) >= 40 and prov["seeds"]
    sums = dict(line.split()[::-1] for line in (mirror_dir / "SHA256SUMS").read_text().splitlines() if line.strip())
    for name, sha in prov["data_sha256"].items():
        assert sums[name] == sha  # trained on exactly these release files


def _net(width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def test_pretrained_scores_a_model_like_its_row_against_a_reference() -> None:
    proxy = evoproxy.pretrained()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    nets = []
    for w in (4, 6, 8, 12, 16):
        torch.manual_seed(w)
        nets.append(_net(w))
    rows = [compute(n, x, y, names=proxy.proxies) for n in nets]
    reference = ColumnTable({p: np.array([r[p] for r in rows]) for p in proxy.proxies})
    whole = proxy.evaluate_table(reference)
    assert proxy.score_model(nets[2], x, y, reference=reference) == pytest.approx(whole[2], abs=1e-12)
    with pytest.raises(ValueError, match="reference sample"):
        proxy.score_model(nets[2], x, y)
    t = make_table("x", "y", 50, 0)
    assert proxy.evaluate_table(ProblemTable("x", "y", t.df)).shape == (50,)
