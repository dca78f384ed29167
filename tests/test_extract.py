"""extract / ProxyEvaluator / fill on a toy search space (no dependence on the real spaces or data)."""

from __future__ import annotations

import ast
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from evoproxy import PROXIES
from evoproxy.cli import main
from evoproxy.extract import ExtractError, ProxyEvaluator, extract, fill, resolve_device, select_archs
from evoproxy.problems import ProblemTable, load_table, save_table
from evoproxy.proxies import ProxyError, compute


class ToySpace:
    """Archs (width, depth) in {4, 8} x {1, 2}: a conv stack with BN/ReLU and global pooling."""

    name = "toy"

    def canonical(self, arch) -> str:
        t = ast.literal_eval(arch) if isinstance(arch, str) else tuple(arch)
        if not (isinstance(t, tuple) and len(t) == 2 and t[0] in (4, 8) and t[1] in (1, 2)):
            raise ValueError(f"toy: bad arch {arch!r}")
        return str(t)

    def enumerate(self):
        return [(w, d) for w in (4, 8) for d in (1, 2)]

    def sample(self, n, seed):
        rng = np.random.default_rng(seed)
        archs = self.enumerate()
        return [archs[i] for i in rng.choice(len(archs), size=n, replace=False)]

    def to_model(self, arch, num_classes=None):
        w, d = ast.literal_eval(arch)
        layers, c = [], 3
        for _ in range(d):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes or 10))


@pytest.fixture
def evaluator() -> ProxyEvaluator:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)
    return ProxyEvaluator(ToySpace(), "cifar10", batch_size=8, seed=0, device="cpu", inputs=x, targets=y)


def test_extract_writes_problem_table(tmp_path, evaluator):
    out = tmp_path / "toy__cifar10.parquet"
    table = extract(ToySpace(), "all", "nwot,synflow,params", batch_size=8, out=out, evaluator=evaluator,
                    progress=False)
    back = load_table(out, require_target=False)
    assert back.n == table.n == 4
    assert list(back.df.columns) == ["arch", *PROXIES, "time_nwot", "time_synflow", "time_params"]
    assert back.df["zen"].isna().all() and back.df["nwot"].notna().all()
    assert (back.df[["time_nwot", "time_synflow", "time_params"]] > 0).all().all()
    meta = back.meta
    assert meta["space"] == "toy" and meta["task"] == "cifar10"
    assert meta["computed_proxies"] == ["nwot", "synflow", "params"]
    assert meta["batch_size"] == 8 and meta["seed"] == 0 and meta["device"] == "cpu"
    assert meta["torch"] == torch.__version__
    assert "val_accuracy" not in back.df
    row = back.df.set_index("arch").loc["(8, 2)"]
    assert row["nwot"] == evaluator.evaluate("(8, 2)", ["nwot"])["nwot"]
    assert row["params"] == pytest.approx((3 * 8 * 9 + 16 + 8 * 8 * 9 + 16 + 8 * 10 + 10) / 1e6)
    assert not (tmp_path / "toy__cifar10.parquet.journal.jsonl").exists()


def test_values_do_not_depend_on_evaluation_order(evaluator):
    a = evaluator.evaluate("(4, 2)")
    evaluator.evaluate("(8, 1)")
    assert evaluator.evaluate([4, 2]) == a
    net = evaluator.model("(4, 2)")
    assert compute(net, evaluator.inputs, evaluator.targets) == a


def test_resume_after_interruption_loses_only_the_arch_in_flight(tmp_path, evaluator, monkeypatch):
    out = tmp_path / "t.parquet"
    full = extract(ToySpace(), "all", "nwot,snip", out=tmp_path / "full.parquet", evaluator=evaluator, progress=False)
    calls = []
    real = evaluator.evaluate_detailed

    def dying(arch, names=None):
        calls.append(arch)
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed while computing the 3rd arch
        return real(arch, names)

    monkeypatch.setattr(evaluator, "evaluate_detailed", dying)
    with pytest.raises(KeyboardInterrupt):
        extract(ToySpace(), "all", "nwot,snip", out=out, evaluator=evaluator, progress=False, checkpoint_every=1000)
    assert not out.exists()  # no checkpoint yet, but the journal holds the 2 finished archs
    assert len((tmp_path / "t.parquet.journal.jsonl").read_text().splitlines()) == 2
    calls.clear()
    monkeypatch.setattr(evaluator, "evaluate_detailed", real)
    counted = []
    monkeypatch.setattr(evaluator, "evaluate_detailed", lambda a, n=None: counted.append(a) or real(a, n))
    resumed = extract(ToySpace(), "all", "nwot,snip", out=out, evaluator=evaluator, progress=False)
    assert len(counted) == 2
    pd.testing.assert_frame_equal(
        resumed.df.set_index("arch").sort_index()[["nwot", "snip"]],
        full.df.set_index("arch").sort_index()[["nwot", "snip"]],
    )
    counted.clear()
    extract(ToySpace(), "all", "nwot,snip", out=out, evaluator=evaluator, progress=False)
    assert counted == []  # everything done: nothing recomputed


def test_resume_with_other_settings_is_refused(tmp_path, evaluator):
    out = tmp_path / "t.parquet"
    extract(ToySpace(), 2, "nwot", out=out, evaluator=evaluator, progress=False)
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    other = ProxyEvaluator(ToySpace(), "cifar10", batch_size=16, seed=0, device="cpu", inputs=x, targets=y)
    with pytest.raises(ExtractError, match="batch_size=8 but this run asks for 16"):
        extract(ToySpace(), 2, "nwot", out=out, evaluator=other, progress=False)
    with pytest.raises(ExtractError, match="lacks proxies \\['zen'\\]"):
        extract(ToySpace(), 2, "nwot,zen", out=out, evaluator=evaluator, progress=False)


def test_arch_selection_from_files_and_errors(tmp_path):
    space = ToySpace()
    txt = tmp_path / "archs.txt"
    txt.write_text("# header\n(4, 1)\n\n(8,2)\n(4, 1)\n")
    assert select_archs(space, str(txt)) == ["(4, 1)", "(8, 2)"]
    pq = tmp_path / "archs.parquet"
    pd.DataFrame({"arch": ["(8, 1)", "(4, 2)"]}).to_parquet(pq)
    assert select_archs(space, str(pq)) == ["(8, 1)", "(4, 2)"]
    assert len(select_archs(space, 3, seed=1)) == 3
    assert select_archs(space, 3, seed=1) == select_archs(space, "3", seed=1)
    bad = tmp_path / "bad.txt"
    bad.write_text("(4, 1)\n(5, 1)\n")
    with pytest.raises(ExtractError, match="entry 2 \\('\\(5, 1\\)'\\) is not a valid arch"):
        select_archs(space, str(bad))
    nocol = tmp_path / "nocol.parquet"
    pd.DataFrame({"x": [1.0]}).to_parquet(nocol)
    with pytest.raises(ExtractError, match="no 'arch' column"):
        select_archs(space, str(nocol))
    with pytest.raises(FileNotFoundError):
        select_archs(space, str(tmp_path / "missing.txt"))


def test_unknown_proxy_and_device_errors(tmp_path, evaluator):
    with pytest.raises(ProxyError, match="'synflowx': unknown proxy"):
        extract(ToySpace(), 2, "synflowx", out=tmp_path / "x.parquet", evaluator=evaluator, progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(ExtractError, match="CUDA is not available"):
            resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "cuda")


def _bench_table(archs: list[str]) -> ProblemTable:
    df = pd.DataFrame({"arch": archs, **{p: np.arange(len(archs), dtype=float) for p in PROXIES},
                       "val_accuracy": np.linspace(80, 90, len(archs))})
    df["nwot"] = np.nan
    df["zen"] = np.nan
    return ProblemTable("toy", "cifar10", df, {"absent_proxies": ["nwot", "zen"], "source": "x"})


def test_fill_merges_missing_proxies(tmp_path, evaluator):
    archs = ["(4, 1)", "(8, 2)", "(4, 2)"]
    save_table(_bench_table(archs), tmp_path / "toy__cifar10.parquet")
    prim = tmp_path / "prim.parquet"
    extract(ToySpace(), archs[::-1], "nwot,zen,snip", out=prim, evaluator=evaluator, progress=False)
    out = tmp_path / "filled.parquet"
    assert main(["fill", "--table", str(tmp_path / "toy__cifar10.parquet"), "--primitives", str(prim),
                 "--out", str(out)]) == 0
    t = load_table(out)
    assert t.meta["computed_proxies"] == ["nwot", "zen"]  # snip was present: kept as released
    assert t.meta["absent_proxies"] == []
    assert t.meta["filled_from"]["batch_size"] == 8
    p = load_table(prim, require_target=False).df.set_index("arch")
    for a, nwot, snip in zip(t.df["arch"], t.df["nwot"], t.df["snip"], strict=True):
        assert nwot == p.loc[a, "nwot"]
        assert snip != p.loc[a, "snip"]
    assert np.isfinite(t.df["zen"]).all()
    assert "time_nwot" in t.df and list(t.df["val_accuracy"]) == list(np.linspace(80, 90, 3))


def test_fill_refuses_primitives_missing_archs(tmp_path, evaluator):
    save_table(_bench_table(["(4, 1)", "(8, 2)"]), tmp_path / "toy__cifar10.parquet")
    prim = tmp_path / "prim.parquet"
    extract(ToySpace(), ["(4, 1)"], "nwot", out=prim, evaluator=evaluator, progress=False)
    with pytest.raises(ExtractError, match="lacks 1 of the 2 archs"):
        fill(tmp_path / "toy__cifar10.parquet", prim, tmp_path / "o.parquet")
    with pytest.raises(ExtractError, match="were not computed there"):
        fill(tmp_path / "toy__cifar10.parquet", prim, tmp_path / "o.parquet", proxies="zen")
    assert not (tmp_path / "o.parquet").exists()


def test_nonfinite_values_become_nan(tmp_path, evaluator, monkeypatch):
    real = evaluator.evaluate_detailed

    def inf_nwot(arch, names=None):
        r = real(arch, names)
        r.values["nwot"] = math.inf
        return r

    monkeypatch.setattr(evaluator, "evaluate_detailed", inf_nwot)
    t = extract(ToySpace(), 2, "nwot", out=tmp_path / "n.parquet", evaluator=evaluator, progress=False)
    assert t.df["nwot"].isna().all()
    assert t.meta["nonfinite_counts"] == {"nwot": 2}
