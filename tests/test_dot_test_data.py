"""The synthetic data of the test workflow (.test/data): current with its generator, in the release's layout, and
with the awkward values of the release that the pipeline must handle."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from snakemake_helpers import DOT_TEST, TEST_IMAGES, TEST_MIRROR

from evoproxy import PROXIES
from evoproxy.problems import load_table
from evoproxy.release.download import download, read_checksums
from evoproxy.release.ingest import ACCURACY_CSV, NB201_CELLS, ingest

TASKS = {"zc_nasbench201.json": ("nb201", {"cifar10": 800, "cifar100": 400}),
         "zc_transbench101_micro.json": ("tnb101_micro", {"class_scene": 400, "jigsaw": 400})}


def _release(name: str) -> dict:
    return json.loads((TEST_MIRROR / name).read_text())


def test_the_committed_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_data", DOT_TEST / "generate_data.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = gen.generate(tmp_path)
    committed = [TEST_MIRROR / p.name if p.parent.name == "nb-suite-zero" else DOT_TEST / "data" / p.name
                 for p in written]
    stale = [str(c.relative_to(DOT_TEST)) for w, c in zip(written, committed, strict=True)
             if w.read_bytes() != c.read_bytes()]
    assert not stale, f"{stale} differ from `python .test/generate_data.py` output: regenerate and commit them"
    total = sum(c.stat().st_size for c in committed)
    assert total < 3_000_000, f".test/data holds {total:,} bytes; keep the test data small"


def test_mirror_downloads_verified_and_ingests(tmp_path: Path) -> None:
    """The mirror passes the real download (sha256 per SHA256SUMS) and ingest, with the release's quirks counted."""
    sums = read_checksums(TEST_MIRROR)
    assert set(sums) == {*TASKS, ACCURACY_CSV}
    raw, out = tmp_path / "raw", tmp_path / "data"
    out.mkdir()
    download(raw, mirror=TEST_MIRROR, only=list(sums))
    ingest(raw, out)
    for name, (space, tasks) in TASKS.items():
        release = _release(name)
        assert set(release) == set(tasks)
        for task, n in tasks.items():
            table = load_table(out / f"{space}__{task}.parquet")
            assert table.n == n == len(release[task])
            sentinels = {p: sum(1 for r in release[task].values() if p in r and r[p]["score"] <= -1e8)
                         for p in PROXIES}
            # NASLib's -1e8 NaN sentinel becomes NaN and is counted, per proxy
            for proxy, count in sentinels.items():
                if proxy in table.meta["sentinel_counts"]:
                    assert table.meta["sentinel_counts"][proxy] == count
                    assert table.df[proxy].isna().sum() == count
            absent = [p for p in PROXIES if not any(p in r for r in release[task].values())]
            assert table.meta["absent_proxies"] == absent
    assert load_table(out / "tnb101_micro__class_scene.parquet").meta["absent_proxies"] == ["zen"]
    jigsaw = load_table(out / "tnb101_micro__jigsaw.parquet").meta["sentinel_counts"]
    assert (jigsaw["jacov"], jigsaw["epe_nas"]) == (4, 3)
    acc = pd.read_parquet(out / "nb201_accuracy.parquet")
    assert len(acc) == NB201_CELLS and sorted(acc["nb201_index"]) == list(range(NB201_CELLS))


def test_accuracy_csv_has_the_real_columns_and_agrees_with_the_records() -> None:
    csv = pd.read_csv(TEST_MIRROR / ACCURACY_CSV)
    assert list(csv.columns) == [
        "nb201_index", "arch", "cifar10_valid_acc_mean", "cifar10_valid_acc_nseeds", "cifar100_valtest_acc_mean",
        "cifar100_valtest_acc_nseeds", "ImageNet16-120_valtest_acc_mean", "ImageNet16-120_valtest_acc_nseeds"]
    assert len(csv) == NB201_CELLS and csv["arch"].is_unique
    by_arch = csv.set_index("arch")
    release = _release("zc_nasbench201.json")
    for task, column in (("cifar10", "cifar10_valid_acc_mean"), ("cifar100", "cifar100_valtest_acc_mean")):
        recs = release[task]
        assert [r["val_accuracy"] for r in recs.values()] == by_arch.loc[list(recs), column].tolist()


@pytest.mark.parametrize("name", list(TASKS))
def test_proxies_correlate_with_accuracy_moderately(name: str) -> None:
    """Single proxies are informative but imperfect (so a formula can beat them), and plain is anti-correlated."""
    for task, records in _release(name).items():
        acc = np.array([r["val_accuracy"] for r in records.values()])
        tau = {}
        for p in PROXIES:
            v = np.array([r[p]["score"] if p in r else np.nan for r in records.values()])
            ok = np.isfinite(v) & (v > -1e8)
            if ok.any():
                tau[p] = kendalltau(v[ok], acc[ok]).statistic
        assert 0.5 < max(tau.values()) < 0.8, (task, tau)
        assert tau["plain"] < -0.1, (task, tau)


def test_images_are_an_npz_the_loader_reads() -> None:
    from evoproxy.data.cifar import read_npz

    x, y = read_npz(TEST_IMAGES)
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.uint8 and set(y.tolist()) == set(range(10))
