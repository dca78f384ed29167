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
    table = extract(evaluator, "all", "nwot,synflow,params", out=out,
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
    full = extract(evaluator, "all", "nwot,snip", out=tmp_path / "full.parquet", progress=False)
    calls = []
    real = evaluator.evaluate_detailed

    def dying(arch, names=None):
        calls.append(arch)
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed while computing the 3rd arch
        return real(arch, names)

    monkeypatch.setattr(evaluator, "evaluate_detailed", dying)
    with pytest.raises(KeyboardInterrupt):
        extract(evaluator, "all", "nwot,snip", out=out, progress=False, checkpoint_every=1000)
    assert not out.exists()  # no checkpoint yet, but the journal holds the 2 finished archs
    assert len((tmp_path / "t.parquet.journal.jsonl").read_text().splitlines()) == 2
    calls.clear()
    monkeypatch.setattr(evaluator, "evaluate_detailed", real)
    counted = []
    monkeypatch.setattr(evaluator, "evaluate_detailed", lambda a, n=None: counted.append(a) or real(a, n))
    resumed = extract(evaluator, "all", "nwot,snip", out=out, progress=False)
    assert len(counted) == 2
    pd.testing.assert_frame_equal(
        resumed.df.set_index("arch").sort_index()[["nwot", "snip"]],
        full.df.set_index("arch").sort_index()[["nwot", "snip"]],
    )
    counted.clear()
    extract(evaluator, "all", "nwot,snip", out=out, progress=False)
    assert counted == []  # everything done: nothing recomputed


def test_resume_with_other_settings_is_refused(tmp_path, evaluator):
    out = tmp_path / "t.parquet"
    extract(evaluator, 2, "nwot", out=out, progress=False)
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    other = ProxyEvaluator(ToySpace(), "cifar10", batch_size=16, seed=0, device="cpu", inputs=x, targets=y)
    with pytest.raises(ExtractError, match="batch_size=8 but this run asks for 16"):
        extract(other, 2, "nwot", out=out, progress=False)
    with pytest.raises(ExtractError, match="lacks proxies \\['zen'\\]"):
        extract(evaluator, 2, "nwot,zen", out=out, progress=False)


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
        extract(evaluator, 2, "synflowx", out=tmp_path / "x.parquet", progress=False)
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
    extract(evaluator, archs[::-1], "nwot,zen,snip", out=prim, progress=False)
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
    extract(evaluator, ["(4, 1)"], "nwot", out=prim, progress=False)
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
    t = extract(evaluator, 2, "nwot", out=tmp_path / "n.parquet", progress=False)
    assert t.df["nwot"].isna().all()
    assert t.meta["nonfinite_counts"] == {"nwot": 2}


# ------------------------------------------------------------------------------ the release's protocol, TNB tasks
from evoproxy.extract import RELEASE_BATCH_SIZE, proxy_labels, release_batch_size  # noqa: E402


def test_release_batch_size_table():
    assert release_batch_size("nb201", "cifar10") == 64
    assert release_batch_size("nb201", "ImageNet16-120") == 64
    assert release_batch_size("nb201", "cifar100") == 32
    assert release_batch_size("nb101", "cifar10") == release_batch_size("nb301", "cifar10") == 32
    assert release_batch_size("darts", "cifar10") == 32  # aliases resolve
    for space in ("tnb101_micro", "tnb101_macro"):
        for task in ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic"):
            assert release_batch_size(space, task) == 32
    assert release_batch_size("toy", "cifar10") == 32  # NASLib's configured default
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    assert ProxyEvaluator("nb201", "cifar10", device="cpu", inputs=x, targets=y).batch_size == 64
    assert ProxyEvaluator("nb201", "cifar100", device="cpu", inputs=x, targets=y).batch_size == 32
    assert ProxyEvaluator("nb201", "cifar10", 16, device="cpu", inputs=x, targets=y).batch_size == 16
    with pytest.raises(ExtractError, match="has no task 'class_scene'"):
        ProxyEvaluator("nb201", "class_scene", device="cpu")


@pytest.mark.integration
def test_release_batch_sizes_match_the_released_jacov(mirror_dir):
    """jacov <= -N for N images (the trace of an N x N correlation matrix is N and log v + 1/v >= 1), with near
    equality for the least correlated nets: the largest released jacov of each problem lies in (-(N + 8), -N]."""
    import json

    files = {"nb101": "zc_nasbench101.json", "nb201": "zc_nasbench201.json", "nb301": "zc_nasbench301.json",
             "tnb101_micro": "zc_transbench101_micro.json", "tnb101_macro": "zc_transbench101_macro.json"}
    checked = 0
    for space, name in files.items():
        for task, recs in json.loads((mirror_dir / name).read_text()).items():
            j = np.array([r["jacov"]["score"] for r in recs.values() if "jacov" in r], dtype=float)
            j = j[np.isfinite(j) & (j > -1e7)]
            n = release_batch_size(space, task)
            assert -(n + 8) < j.max() <= -n + 1e-9, (space, task, j.max(), n)
            assert RELEASE_BATCH_SIZE[(space, task)] == n
            checked += 1
    assert checked == 13


def test_data_free_proxies_need_no_images(tmp_path, monkeypatch):
    """params/flops/synflow/zen read only the batch shape: no data file, and nothing is downloaded."""
    empty = tmp_path / "datasets"
    empty.mkdir()
    monkeypatch.setenv("EVOPROXY_DATA_ROOT", str(empty))
    archs = tmp_path / "archs.txt"
    archs.write_text("(0, 0, 0, 0, 0, 0)\n(0, 0, 0, 0, 0, 4)\n")  # all-skip, and one avg-pool edge
    out = tmp_path / "nb201.parquet"
    assert main(["extract", "--space", "nb201", "--archs", str(archs), "--proxies", "params,flops",
                 "--device", "cpu", "--out", str(out)]) == 0
    t = load_table(out, require_target=False)
    assert t.df.set_index("arch").loc["(0, 0, 0, 0, 0, 0)", "params"] == pytest.approx(0.073306, abs=1e-9)
    assert t.meta["batch_size"] == 64 and t.meta["data_file"] is None
    assert list(empty.iterdir()) == []  # no CIFAR download
    tnb = tmp_path / "tnb.txt"
    tnb.write_text("(0, 0, 0, 1, 0, 0)\n")
    out = tmp_path / "tnb.parquet"
    assert main(["extract", "--space", "tnb101_micro", "--dataset", "class_scene", "--archs", str(tnb),
                 "--proxies", "params,flops,synflow", "--device", "cpu", "--out", str(out)]) == 0
    t = load_table(out, require_target=False)
    row = t.df.iloc[0]
    stem = 3 * 9 * 32 + 2 * 32 + 32 * 9 * 64 + 2 * 64
    # one skip edge node0 -> node3: a FactorizedReduce in each of the 3 reducing cells (64->128->256->512)
    fr = sum(2 * (c * c) + 4 * c for c in (64, 128, 256))
    assert row["params"] == pytest.approx((stem + fr + 512 * 63 + 63) / 1e6, abs=1e-9)
    assert math.isfinite(row["synflow"]) and row["synflow"] > 0
    assert t.meta["space"] == "tnb101_micro" and t.meta["task"] == "class_scene" and t.meta["batch_size"] == 32
    ev = ProxyEvaluator("tnb101_micro", "class_scene", device="cpu")
    assert ev.evaluate("(0, 0, 0, 1, 0, 0)", ["synflow"])["synflow"] == row["synflow"]
    assert ev._inputs is None  # the evaluator never loaded a batch


def test_proxy_labels_per_task():
    from evoproxy.spaces import get_space

    micro = get_space("tnb101_micro")
    soft = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert proxy_labels(micro.task("class_object"), soft).tolist() == [1, 0]
    assert proxy_labels(micro.task("room_layout"), torch.tensor([[0.0, -1.0, 2.0]])).tolist() == [2]
    ids = torch.tensor([3, 999])
    assert proxy_labels(micro.task("jigsaw"), ids) is ids
    assert proxy_labels(micro.task("segmentsemantic"), torch.zeros(2, 4, 4, dtype=torch.long)) is None
    assert proxy_labels(get_space("nb201").task("cifar10"), ids) is ids


@pytest.fixture
def taskonomy_dir(tmp_path):
    from test_data_taskonomy import make_taskonomy

    return make_taskonomy(tmp_path / "taskonomy", points=2)


def test_tnb_losses_and_labels_reach_the_proxies(taskonomy_dir):
    """class_object: the gradient proxies use the soft-label loss, epe_nas the argmax labels."""
    from evoproxy.spaces.tnb101_net import SoftmaxCrossEntropyWithLogits

    ev = ProxyEvaluator("tnb101_micro", "class_object", batch_size=2, seed=0, device="cpu", data_file=taskonomy_dir)
    arch = "(0, 0, 0, 1, 0, 0)"
    got = ev.evaluate(arch, ["snip", "epe_nas", "jacov"])
    assert ev.targets.shape == (2, 100)
    net = ev.model(arch)
    want_snip = compute(net, ev.inputs, ev.targets, ["snip"], loss_fn=SoftmaxCrossEntropyWithLogits())["snip"]
    assert got["snip"] == want_snip
    want = compute(net, ev.inputs, ev.targets.argmax(1), ["epe_nas", "jacov"])
    assert got["epe_nas"] == want["epe_nas"] and got["jacov"] == want["jacov"]
    hard = compute(net, ev.inputs, ev.targets.argmax(1), ["snip"])["snip"]  # plain cross-entropy: another value
    assert hard != got["snip"]


@pytest.mark.slow
def test_pixel_task_proxies(taskonomy_dir):
    """segmentsemantic: per-pixel cross-entropy for the gradient proxies, epe_nas undefined (NaN, as NASLib)."""
    import torch.nn.functional as F

    ev = ProxyEvaluator("tnb101_micro", "segmentsemantic", batch_size=2, seed=0, device="cpu",
                        data_file=taskonomy_dir)
    arch = "(0, 0, 0, 1, 0, 0)"
    got = ev.evaluate(arch, ["epe_nas", "grad_norm"])
    assert math.isnan(got["epe_nas"]) and math.isfinite(got["grad_norm"])
    want = compute(ev.model(arch), ev.inputs, ev.targets, ["grad_norm"], loss_fn=F.cross_entropy)["grad_norm"]
    assert got["grad_norm"] == want


def test_truncated_npz_is_one_clear_error(tmp_path, capsys):
    good = tmp_path / "good.npz"
    np.savez(good, x_train=np.zeros((4, 8, 8, 3), dtype=np.uint8), y_train=np.zeros(4, dtype=np.int64))
    bad = tmp_path / "cut.npz"
    bad.write_bytes(good.read_bytes()[:100])
    notzip = tmp_path / "text.npz"
    notzip.write_text("not an archive")
    for f in (bad, notzip):
        rc = main(["extract", "--space", "nb201", "--archs", "1", "--proxies", "nwot", "--data-file", str(f),
                   "--device", "cpu", "--out", str(tmp_path / "o.parquet")])
        err = capsys.readouterr().err
        assert rc == 2 and str(f) in err and "not a readable npz file" in err and "Traceback" not in err
        rc = main(["search", "--space", "nb201", "--objective", "nwot", "--mode", "online", "--images", str(f),
                   "--device", "cpu", "--budget-evals", "1", "--quiet", "--out", str(tmp_path / "s.json")])
        err = capsys.readouterr().err
        assert rc == 2 and str(f) in err and "not a readable npz file" in err
        assert not (tmp_path / "s.json").exists()


def test_reference_sample_calibrates_one_architecture_like_its_table_row(evaluator):
    """The reference sample is seeded; an ecdf formula scoring one arch against it (online NAS, ``score_model``)
    gives that arch the score its row gets when the reference table is scored whole."""
    from evoproxy.nas.objective import OnlineObjective
    from evoproxy.sr.formula import Formula

    ref = evaluator.reference_sample(3, ["params", "nwot"], seed=1)
    again = evaluator.reference_sample(3, ["params", "nwot"], seed=1)
    assert list(ref.archs) == list(again.archs) and len(set(ref.archs)) == 3
    assert ref.n == 3 and np.array_equal(ref.values("nwot"), again.values("nwot"))
    assert ref.values("params").tolist() == [evaluator.evaluate(a, ["params"])["params"] for a in ref.archs]
    f = Formula.from_ast(["add", ["proxy", "params"], ["proxy", "nwot"]], transform="ecdf")
    online = OnlineObjective(f, evaluator, reference_size=3, seed=1)
    assert online.reference_archs == list(ref.archs)
    table_scores = f.evaluate_table(ref)
    assert [online(a) for a in ref.archs] == pytest.approx(table_scores.tolist())
    with pytest.raises(ExtractError, match="at least 2"):
        evaluator.reference_sample(1)
