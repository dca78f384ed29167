"""Image data for zero-cost proxies: the official CIFAR tarballs, NB201's ImageNet16-120 batches, or an npz file.

Sources, in order of preference when ``data_file`` is not given: a cached npz beside the tarball, the tarball in
``root`` (md5-checked), or a download of the official tarball (md5-checked, written atomically) into ``root``.
``data_file`` may instead name

- an ``.npz`` with ``x_train, y_train`` (and ``x_test, y_test``): uint8 images (N, H, W, 3) or (N, 3, H, W) and
  integer labels (the layout of ``../shared/datasets/cifar10-subset``; any dataset, e.g. a cifar100 or
  ImageNet16-120 export);
- an official ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` (md5-checked);
- for ImageNet16-120, NAS-Bench-201's directory of pickled batches (``train_data_batch_1..10``, ``val_data``), of
  which the classes 1..120 are kept (labels become 0..119), as NB201 does.
"""

from __future__ import annotations

import os
import pickle
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evoproxy.fileio import atomic_path, file_digest


@dataclass(frozen=True)
class Source:
    """An official dataset archive: where to get it and how to check it."""

    url: str
    md5: str
    filename: str
    train_members: tuple[str, ...]
    test_members: tuple[str, ...]
    label_key: bytes


SOURCES: dict[str, Source] = {
    "cifar10": Source(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
        filename="cifar-10-python.tar.gz",
        train_members=tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)),
        test_members=("cifar-10-batches-py/test_batch",),
        label_key=b"labels",
    ),
    "cifar100": Source(
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
        filename="cifar-100-python.tar.gz",
        train_members=("cifar-100-python/train",),
        test_members=("cifar-100-python/test",),
        label_key=b"fine_labels",
    ),
}

NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
SPLITS = ("train", "test")


class DataError(ValueError):
    """A data file that is missing, corrupt or not in an expected layout."""


def default_root() -> Path:
    """Where official archives are looked for / downloaded: ``$EVOPROXY_DATA_ROOT`` or ``resources/datasets``."""
    return Path(os.environ.get("EVOPROXY_DATA_ROOT", "resources/datasets"))


def md5sum(path: str | os.PathLike[str]) -> str:
    """Hex md5 of a file (the checksum the CIFAR site publishes)."""
    return file_digest(path, "md5")


def fetch_tarball(dataset: str, root: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Path of the md5-verified official tarball of ``dataset`` in ``root``, downloading it when absent."""
    src = _source(dataset)
    root = Path(root) if root is not None else default_root()
    path = root / src.filename
    if not path.exists():
        if not download:
            raise FileNotFoundError(f"{path} not found (pass download=True or --data-file FILE)")
        with atomic_path(path) as tmp:
            try:
                urllib.request.urlretrieve(src.url, tmp)  # noqa: S310 - fixed https URL (or a test's file://)
            except OSError as exc:
                raise DataError(f"download of {src.url} failed: {exc}") from exc
            _check_md5(tmp, src, shown=src.url)
    else:
        _check_md5(path, src, shown=str(path))
    return path


def _source(dataset: str) -> Source:
    if dataset not in SOURCES:
        raise DataError(
            f"no official archive known for dataset {dataset!r} (known: {sorted(SOURCES)}); "
            "pass --data-file with an npz (x_train, y_train) or, for ImageNet16-120, NB201's batch directory"
        )
    return SOURCES[dataset]


def _check_md5(path: Path, src: Source, shown: str) -> None:
    got = md5sum(path)
    if got != src.md5:
        raise DataError(f"{shown}: md5 {got} does not match the official {src.md5} of {src.filename}")


def read_tarball(path: str | os.PathLike[str], dataset: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels int64 of ``split`` from an official CIFAR python tarball."""
    src = _source(dataset)
    members = src.train_members if split == "train" else src.test_members
    xs, ys = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in members:
                try:
                    fh = tar.extractfile(name)
                except KeyError:
                    raise DataError(f"{path}: member {name!r} missing (not an official {src.filename})") from None
                if fh is None:
                    raise DataError(f"{path}: member {name!r} is not a file")
                batch = pickle.load(fh, encoding="bytes")
                if b"data" not in batch or src.label_key not in batch:
                    raise DataError(f"{path}:{name}: expected keys b'data' and {src.label_key!r}")
                xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
                ys.append(np.asarray(batch[src.label_key], dtype=np.int64))
    except (tarfile.TarError, EOFError, OSError, pickle.UnpicklingError) as exc:
        raise DataError(f"{path}: cannot read CIFAR tarball: {exc}") from exc
    return np.ascontiguousarray(np.concatenate(xs)), np.concatenate(ys)


def read_npz(path: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W, 3) uint8 and labels int64 from an npz with ``x_<split>`` / ``y_<split>``."""
    try:
        with np.load(path, allow_pickle=False) as d:
            keys = set(d.files)
            xk, yk = f"x_{split}", f"y_{split}"
            if xk not in keys or yk not in keys:
                raise DataError(f"{path}: expected arrays {xk!r} and {yk!r}, found {sorted(keys)}")
            x, y = d[xk], d[yk]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: not a readable npz file (truncated or not a zip archive?): {exc}") from exc
    if x.dtype != np.uint8:
        raise DataError(f"{path}: {xk} must be uint8 images (0..255), got dtype {x.dtype}")
    if x.ndim == 4 and x.shape[-1] != 3 and x.shape[1] == 3:
        x = x.transpose(0, 2, 3, 1)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise DataError(f"{path}: {xk} must have shape (N, H, W, 3) or (N, 3, H, W), got {x.shape}")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: {yk} must be {len(x)} integer labels, got shape {y.shape} dtype {y.dtype}")
    return np.ascontiguousarray(x), y.astype(np.int64)


def read_imagenet16(directory: str | os.PathLike[str], split: str = "train", classes: int = 120):
    """NB201's ImageNet16 pickled batches -> images (N, 16, 16, 3) uint8 and labels 0..classes-1."""
    directory = Path(directory)
    names = [f"train_data_batch_{i}" for i in range(1, 11)] if split == "train" else ["val_data"]
    xs, ys = [], []
    for name in names:
        f = directory / name
        if not f.exists():
            raise DataError(f"{f} not found (expected NB201's ImageNet16 batches {names[0]}..{names[-1]})")
        with open(f, "rb") as fh:
            try:
                batch = pickle.load(fh, encoding="latin1")
            except (pickle.UnpicklingError, EOFError) as exc:
                raise DataError(f"{f}: cannot unpickle: {exc}") from exc
        if "data" not in batch or "labels" not in batch:
            raise DataError(f"{f}: expected keys 'data' and 'labels'")
        x = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 16, 16).transpose(0, 2, 3, 1)
        y = np.asarray(batch["labels"], dtype=np.int64)
        keep = (y >= 1) & (y <= classes)
        xs.append(x[keep])
        ys.append(y[keep] - 1)
    return np.ascontiguousarray(np.concatenate(xs)), np.concatenate(ys)


def load_arrays(
    dataset: str,
    split: str = "train",
    data_file: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """All images (N, H, W, 3) uint8 and labels of ``dataset``'s ``split`` from the source described above."""
    if dataset not in NUM_CLASSES:
        raise DataError(f"unknown dataset {dataset!r}; expected one of {sorted(NUM_CLASSES)}")
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {SPLITS}")
    if data_file is not None:
        path = Path(data_file)
        if not path.exists():
            raise FileNotFoundError(f"data file {path} not found")
        if path.is_dir():
            if dataset != "ImageNet16-120":
                raise DataError(f"{path} is a directory; only ImageNet16-120 is read from NB201's batch directory")
            x, y = read_imagenet16(path, split)
        elif path.name.endswith((".tar.gz", ".tgz")):
            _check_md5(path, _source(dataset), shown=str(path))
            x, y = read_tarball(path, dataset, split)
        else:
            x, y = read_npz(path, split)
    else:
        src = _source(dataset)
        root_p = Path(root) if root is not None else default_root()
        cache = root_p / f"{src.filename.removesuffix('.tar.gz')}.{src.md5[:8]}.{split}.npz"
        if cache.exists():
            x, y = read_npz(cache, "data")
        else:
            x, y = read_tarball(fetch_tarball(dataset, root_p, download), dataset, split)
            with atomic_path(cache) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, x_data=x, y_data=y)
    n_cls = NUM_CLASSES[dataset]
    if len(y) and (y.min() < 0 or y.max() >= n_cls):
        raise DataError(f"{data_file or dataset}: labels must lie in 0..{n_cls - 1} for {dataset}")
    return x, y
