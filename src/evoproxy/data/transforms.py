"""Image normalisation as NASLib's zero-cost data loaders apply it (per-channel mean / std after scaling to [0, 1]).

Constants from NASLib ``naslib/utils`` (``get_train_val_loaders``), so inputs match those the release's proxies saw.
No random augmentation is applied: a zero-cost minibatch must be identical on every run.
"""

from __future__ import annotations

import numpy as np
import torch

NORMALIZATION: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": ((0.49139968, 0.48215827, 0.44653124), (0.24703233, 0.24348505, 0.26158768)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": (
        (122.68 / 255, 116.66 / 255, 104.01 / 255),
        (63.22 / 255, 61.26 / 255, 65.09 / 255),
    ),
}


def to_tensor(images: np.ndarray, dataset: str) -> torch.Tensor:
    """uint8 images, NHWC, -> float32 NCHW tensor scaled to [0, 1] and normalised with ``dataset``'s mean / std."""
    if dataset not in NORMALIZATION:
        raise ValueError(f"no normalisation known for dataset {dataset!r}; known: {sorted(NORMALIZATION)}")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {images.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    mean, std = NORMALIZATION[dataset]
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x - m) / s).contiguous()
