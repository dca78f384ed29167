"""Image data: npz subset, official-layout tarball (md5, file:// download, cache), ImageNet16 batches, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from evoproxy.data import NORMALIZATION, DataError, load_batch
from evoproxy.data import cifar as cifar_mod
from evoproxy.data.cifar import Source, fetch_tarball, load_arrays, read_tarball


def _batch(n: int, seed: int, label_key: bytes, classes: int) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    return {b"data": x.reshape(n, 3072), label_key: [int(v) for v in y], b"batch_label": b"x"}, x, y


def make_cifar10_tarball(path: Path, per_batch: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A tiny tarball in the official cifar-10-python layout; returns the NHWC train images and labels."""
    xs, ys = [], []
    with tarfile.open(path, "w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for k, name in enumerate(names):
            d, x, y = _batch(per_batch, k, b"labels", 10)
            if name != "test_batch":
                xs.append(x)
                ys.append(y)
            blob = pickle.dumps(d)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return np.concatenate(xs).transpose(0, 2, 3, 1), np.concatenate(ys)


@pytest.fixture()
def tiny_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Tiny official-layout tarball served from a file:// URL, registered with its md5 in place of the real one."""
    remote = tmp_path / "remote" / "cifar-10-python.tar.gz"
    remote.parent.mkdir()
    x, y = make_cifar10_tarball(remote)
    md5 = hashlib.md5(remote.read_bytes()).hexdigest()
    real = cifar_mod.SOURCES["cifar10"]
    fake = Source(remote.as_uri(), md5, real.filename, real.train_members, real.test_members, real.label_key)
    monkeypatch.setitem(cifar_mod.SOURCES, "cifar10", fake)
    return remote, x, y


@pytest.mark.integration
def test_real_npz_batch(cifar_npz: Path) -> None:
    x, y = load_batch("cifar10", 64, seed=0, data_file=cifar_npz)
    assert x.shape == (64, 3, 32, 32) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and int(y.min()) >= 0 and int(y.max()) <= 9
    x2, y2 = load_batch("cifar10", 64, seed=0, data_file=cifar_npz)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = load_batch("cifar10", 64, seed=1, data_file=cifar_npz)
    assert not torch.equal(x, x3)
    # normalisation: recover the raw uint8 pixels of the drawn images
    raw = np.load(cifar_npz)
    idx = np.random.default_rng(0).choice(len(raw["x_train"]), 64, replace=False)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in NORMALIZATION["cifar10"])
    pixels = (x * std + mean) * 255
    expect = torch.from_numpy(raw["x_train"][idx]).permute(0, 3, 1, 2).float()
    assert torch.allclose(pixels, expect, atol=1e-3)
    assert torch.equal(y, torch.from_numpy(raw["y_train"][idx]))
    # whole split, channel statistics near the published CIFAR-10 ones
    xa, _ = load_batch("cifar10", 1000, seed=0, data_file=cifar_npz)
    assert xa.mean(dim=(0, 2, 3)).abs().max() < 0.1


def test_download_md5_cache(tiny_tarball, tmp_path: Path) -> None:
    remote, x, y = tiny_tarball
    root = tmp_path / "root"
    path = fetch_tarball("cifar10", root)
    assert path == root / "cifar-10-python.tar.gz" and path.read_bytes() == remote.read_bytes()
    xs, ys = load_arrays("cifar10", "train", root=root)
    assert np.array_equal(xs, x) and np.array_equal(ys, y)
    caches = list(root.glob("*.train.npz"))
    assert len(caches) == 1
    path.unlink()  # second load comes from the cache, not the tarball
    xs2, ys2 = load_arrays("cifar10", "train", root=root, download=False)
    assert np.array_equal(xs2, x) and np.array_equal(ys2, y)
    xt, _ = load_arrays("cifar10", "test", root=tmp_path / "r2")
    assert xt.shape == (6, 32, 32, 3)
    xb, yb = load_batch("cifar10", 5, seed=0, root=root)
    assert xb.shape == (5, 3, 32, 32) and yb.shape == (5,)


def test_download_bad_md5_leaves_nothing(tiny_tarball, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = cifar_mod.SOURCES["cifar10"]
    monkeypatch.setitem(cifar_mod.SOURCES, "cifar10", dataclasses.replace(src, md5="0" * 32))
    root = tmp_path / "root"
    with pytest.raises(DataError, match="md5 .* does not match"):
        fetch_tarball("cifar10", root)
    assert not root.exists() or not any(root.iterdir())  # no tarball, no temp file left


def test_tarball_as_data_file(tiny_tarball) -> None:
    remote, x, y = tiny_tarball
    xs, ys = read_tarball(remote, "cifar10")
    assert np.array_equal(xs, x) and np.array_equal(ys, y)
    xb, yb = load_batch("cifar10", 30, seed=2, data_file=remote)
    assert xb.shape == (30, 3, 32, 32) and sorted(yb.tolist()) == sorted(y.tolist())


def test_tarball_wrong_checksum_as_data_file(tmp_path: Path) -> None:
    bad = tmp_path / "cifar-10-python.tar.gz"
    make_cifar10_tarball(bad)
    with pytest.raises(DataError, match="does not match the official c58f3010"):
        load_batch("cifar10", 4, seed=0, data_file=bad)


def test_no_download(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz not found"):
        load_batch("cifar10", 4, seed=0, root=tmp_path, download=False)


def test_npz_generic_and_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    f = tmp_path / "c100.npz"
    x = rng.integers(0, 256, size=(20, 3, 32, 32), dtype=np.uint8)  # NCHW is accepted
    np.savez(f, x_train=x, y_train=np.arange(20) * 5)
    xb, yb = load_batch("cifar100", 20, seed=0, data_file=f)
    assert xb.shape == (20, 3, 32, 32) and set(yb.tolist()) == set(range(0, 100, 5))
    with pytest.raises(DataError, match="exceeds the 20 images"):
        load_batch("cifar100", 21, seed=0, data_file=f)
    with pytest.raises(DataError, match="labels must lie in 0..9"):
        load_batch("cifar10", 2, seed=0, data_file=f)
    g = tmp_path / "bad.npz"
    np.savez(g, images=x)
    with pytest.raises(DataError, match="expected arrays 'x_train' and 'y_train'"):
        load_batch("cifar10", 2, seed=0, data_file=g)
    h = tmp_path / "float.npz"
    np.savez(h, x_train=x.astype(np.float32), y_train=np.zeros(20, dtype=int))
    with pytest.raises(DataError, match="must be uint8"):
        load_batch("cifar10", 2, seed=0, data_file=h)
    with pytest.raises(DataError, match="unknown dataset"):
        load_batch("svhn", 2, seed=0, data_file=f)
    with pytest.raises(FileNotFoundError):
        load_batch("cifar10", 2, seed=0, data_file=tmp_path / "missing.npz")


def test_imagenet16_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(1, 11):
        data = rng.integers(0, 256, size=(8, 768), dtype=np.uint8)
        labels = [1, 2, 120, 121, 500, 1000, 60, 3]  # 1-based ImageNet classes; >120 dropped
        (tmp_path / f"train_data_batch_{i}").write_bytes(pickle.dumps({"data": data, "labels": labels}))
    x, y = load_arrays("ImageNet16-120", "train", data_file=tmp_path)
    assert x.shape == (50, 16, 16, 3) and sorted(set(y.tolist())) == [0, 1, 2, 59, 119]
    xb, _ = load_batch("ImageNet16-120", 16, seed=0, data_file=tmp_path)
    assert xb.shape == (16, 3, 16, 16)


def test_cifar100_tarball_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cifar-100-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for k, name in enumerate(["train", "test"]):
            d, _, _ = _batch(12, k, b"fine_labels", 100)
            d[b"coarse_labels"] = [0] * 12
            blob = pickle.dumps(d)
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    expect_x = _batch(12, 0, b"fine_labels", 100)[1].transpose(0, 2, 3, 1)
    expect_y = _batch(12, 0, b"fine_labels", 100)[2]
    src = cifar_mod.SOURCES["cifar100"]
    monkeypatch.setitem(cifar_mod.SOURCES, "cifar100", dataclasses.replace(src, md5=hashlib.md5(path.read_bytes()).hexdigest()))
    x, y = load_arrays("cifar100", "train", data_file=path)
    assert np.array_equal(x, expect_x) and np.array_equal(y, expect_y)
    xb, yb = load_batch("cifar100", 12, seed=0, data_file=path)
    assert xb.shape == (12, 3, 32, 32) and sorted(yb.tolist()) == sorted(expect_y.tolist())
