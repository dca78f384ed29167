"""Image minibatches for zero-cost proxies: ``load_batch(dataset, batch_size, seed) -> (inputs, targets)``.

The batch is a seeded draw without replacement from the chosen split (train by default, as the zero-cost
literature uses), normalised like NASLib's loaders, with no augmentation: same seed, same tensors.
``load_task_batch`` also serves the TransNAS-Bench-101 (Taskonomy) tasks from a user-supplied folder
(:mod:`evoproxy.data.taskonomy`).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from evoproxy.data.cifar import NUM_CLASSES, SOURCES, DataError, fetch_tarball, load_arrays
from evoproxy.data.taskonomy import TASKONOMY_TASKS, load_taskonomy_batch
from evoproxy.data.transforms import NORMALIZATION, to_tensor

DATASETS: tuple[str, ...] = tuple(NUM_CLASSES)


def load_batch(
    dataset: str,
    batch_size: int,
    seed: int,
    data_file: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    split: str = "train",
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` normalised images (float32 NCHW) and their int64 labels, a deterministic draw given ``seed``.

    ``data_file``: an npz, an official tarball, or (ImageNet16-120) NB201's batch directory; without it the official
    tarball in ``root`` is used (downloaded and md5-checked when absent). See :mod:`evoproxy.data.cifar`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x, y = load_arrays(dataset, split, data_file=data_file, root=root, download=download)
    if batch_size > len(x):
        raise DataError(f"batch_size {batch_size} exceeds the {len(x)} images of {dataset}/{split}")
    idx = np.random.default_rng(seed).choice(len(x), size=batch_size, replace=False)
    return to_tensor(x[idx], dataset), torch.from_numpy(y[idx].copy())


def load_task_batch(
    dataset: str,
    batch_size: int,
    seed: int,
    data_file: str | os.PathLike[str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A minibatch of any supported task: the CIFAR / ImageNet16 datasets (:func:`load_batch`) or a Taskonomy task
    (:func:`~evoproxy.data.taskonomy.load_taskonomy_batch`, ``data_file`` = the Taskonomy folder)."""
    if dataset in TASKONOMY_TASKS:
        return load_taskonomy_batch(dataset, batch_size, seed, data_file)
    return load_batch(dataset, batch_size, seed, data_file=data_file, root=root)


__all__ = [
    "DATASETS",
    "TASKONOMY_TASKS",
    "NORMALIZATION",
    "NUM_CLASSES",
    "SOURCES",
    "DataError",
    "fetch_tarball",
    "load_arrays",
    "load_batch",
    "load_task_batch",
    "load_taskonomy_batch",
]
