"""Taskonomy minibatches (TransNAS-Bench-101 tasks) from a small synthetic folder in the official layout."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evoproxy.data import DataError, load_task_batch
from evoproxy.data.taskonomy import (
    ROOM_MEAN,
    ROOM_STD,
    _euler2mat,
    _mat2euler,
    label_path,
    load_taskonomy_batch,
    permutation_set,
    room_layout_from_point_info,
)

BUILDINGS = ("allensville", "beechwood")


def make_taskonomy(root: Path, points: int = 3, side: int = 48, raw_classes: bool = False, seed: int = 0) -> Path:
    """A Taskonomy folder: ``len(BUILDINGS) * points`` views with rgb, class_object / class_scene (100 / 63
    entries, or the raw 1000 / 365 with NASLib's selection masks), room_layout, point_info, segmentsemantic and
    normal labels. Small random images; labels random but valid."""
    rng = np.random.default_rng(seed)
    for b in BUILDINGS:
        for p in range(points):
            stem = f"point_{p}_view_0_domain_"

            def path(domain: str, ext: str, b: str = b, stem: str = stem) -> Path:
                f = root / b / domain / f"{stem}{domain}.{ext}"
                f.parent.mkdir(parents=True, exist_ok=True)
                return f

            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path("rgb", "png"))
            n_obj, n_scene = (1000, 365) if raw_classes else (100, 63)
            np.save(path("class_object", "npy"), rng.dirichlet(np.ones(n_obj)))
            np.save(path("class_scene", "npy"), rng.dirichlet(np.ones(n_scene)))
            np.save(path("room_layout", "npy"), rng.normal(size=9))
            seg = rng.integers(0, 18, (side, side), dtype=np.uint8)
            Image.fromarray(seg).save(path("segmentsemantic", "png"))
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path("normal", "png"))
    if raw_classes:
        for task, n, kept in (("class_object", 1000, 100), ("class_scene", 365, 63)):
            mask = np.zeros(n)
            mask[rng.choice(n, kept, replace=False)] = 1
            np.save(root / f"{task}_selected.npy", mask)
    return root


@pytest.fixture
def taskonomy(tmp_path: Path) -> Path:
    return make_taskonomy(tmp_path / "taskonomy")


def test_batches_per_task(taskonomy: Path) -> None:
    n = 4
    for task in ("class_object", "class_scene"):
        x, y = load_task_batch(task, n, seed=0, data_file=taskonomy)
        assert x.shape == (n, 3, 256, 256) and x.dtype == torch.float32
        assert y.shape == (n, 100 if task == "class_object" else 63)
        assert torch.allclose(y.sum(1), torch.ones(n))
    x, y = load_task_batch("room_layout", n, 0, taskonomy)
    assert y.shape == (n, 9) and y.dtype == torch.float32
    x, y = load_task_batch("segmentsemantic", n, 0, taskonomy)
    assert y.shape == (n, 256, 256) and y.dtype == torch.int64 and 0 <= y.min() and y.max() <= 16
    x, y = load_task_batch("normal", n, 0, taskonomy)
    assert y.shape == (n, 3, 256, 256) and 0 <= y.min() and y.max() <= 1
    x, y = load_task_batch("autoencoder", n, 0, taskonomy)
    assert torch.equal(x, y) and -1 <= x.min() and x.max() <= 1  # mean .5 / std .5 normalisation
    x, y = load_task_batch("jigsaw", n, 0, taskonomy)
    assert x.shape == (n, 9, 3, 64, 64) and 0 <= x.min() and x.max() <= 1  # tiles are not normalised
    assert y.dtype == torch.int64 and 0 <= y.min() and y.max() < 1000


def test_normalisation_and_determinism(taskonomy: Path) -> None:
    x0, y0 = load_task_batch("class_scene", 3, seed=5, data_file=taskonomy)
    x1, y1 = load_task_batch("class_scene", 3, seed=5, data_file=taskonomy)
    assert torch.equal(x0, x1) and torch.equal(y0, y1)
    x2, _ = load_task_batch("class_scene", 3, seed=6, data_file=taskonomy)
    assert not torch.equal(x0, x2)
    # the input is the resized image normalised with TNB's mean / std: undo it and compare with PIL's resize
    files = sorted(taskonomy.glob("*/rgb/*.png"))
    idx = np.random.default_rng(5).choice(len(files), size=3, replace=False)
    with Image.open(files[idx[0]]) as im:
        ref = np.asarray(im.convert("RGB").resize((256, 256), Image.BILINEAR), dtype=np.float32) / 255
    mean = torch.tensor([0.5224, 0.5222, 0.5221]).view(3, 1, 1)
    std = torch.tensor([0.2234, 0.2235, 0.2236]).view(3, 1, 1)
    np.testing.assert_allclose((x0[0] * std + mean).permute(1, 2, 0).numpy(), ref, atol=1e-5)
    # segmentation ids: 0 (unlabelled) folded into 1, then shifted to 0..16
    _, seg = load_task_batch("segmentsemantic", 1, seed=0, data_file=taskonomy)
    raw_file = files[int(np.random.default_rng(0).choice(len(files), size=1, replace=False)[0])]
    seg_file = raw_file.parent.parent / "segmentsemantic" / raw_file.name.replace("rgb", "segmentsemantic")
    with Image.open(seg_file) as im:
        raw = np.asarray(im.resize((256, 256), Image.NEAREST)).astype(np.int64)
    np.testing.assert_array_equal(seg[0].numpy(), np.maximum(raw, 1) - 1)


def test_raw_class_labels_need_the_selection_mask(tmp_path: Path) -> None:
    root = make_taskonomy(tmp_path / "raw", raw_classes=True)
    _, y = load_task_batch("class_object", 2, seed=1, data_file=root)
    mask = np.load(root / "class_object_selected.npy").astype(bool)
    files = sorted(root.glob("*/rgb/*.png"))
    first = files[int(np.random.default_rng(1).choice(len(files), size=2, replace=False)[0])]
    raw = np.load(label_path(first, "class_object", "npy"))
    np.testing.assert_allclose(y[0].numpy(), raw[mask] / raw[mask].sum(), rtol=1e-6)
    (root / "class_scene_selected.npy").unlink()
    with pytest.raises(DataError, match="class_scene_selected.npy"):
        load_task_batch("class_scene", 2, seed=1, data_file=root)


def test_jigsaw_tiles_follow_the_permutation(tmp_path: Path) -> None:
    root = tmp_path / "jig"
    (root / "b" / "rgb").mkdir(parents=True)
    img = np.zeros((255, 255, 3), dtype=np.uint8)
    for col in range(3):  # a red, a green and a blue column of the 3 x 3 grid
        img[:, col * 85:(col + 1) * 85, col] = 255
    for p in range(2):
        Image.fromarray(img).save(root / "b" / "rgb" / f"point_{p}_view_0_domain_rgb.png")
    perm = np.array([4, 8, 0, 2, 6, 1, 3, 7, 5])
    np.save(root / "permutations_hamming_max_1000.npy", np.tile(perm, (1000, 1)))
    x, _ = load_taskonomy_batch("jigsaw", 2, seed=0, root=root)
    dominant = x.mean(dim=(-2, -1)).argmax(-1)  # (N, 9): the colour of each tile
    assert (dominant == torch.tensor(perm % 3)).all()
    generated = permutation_set(tmp_path)  # no official file: a fixed set of distinct permutations
    assert generated.shape == (1000, 9) and len({tuple(r) for r in generated}) == 1000
    assert (np.sort(generated, axis=1) == np.arange(9)).all()
    np.testing.assert_array_equal(generated, permutation_set(tmp_path))


def test_room_layout_from_point_info(tmp_path: Path) -> None:
    from scipy.spatial.transform import Rotation

    angles = (0.3, -0.2, 1.1)
    np.testing.assert_allclose(_euler2mat(*angles), Rotation.from_euler("xyz", angles).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(_mat2euler(_euler2mat(*angles)), angles, atol=1e-12)
    # camera at the origin, no rotation: after the x/y flip the camera frame is (y, -x, z) of the world
    view = {"camera_location": [0.0, 0.0, 0.0], "camera_rotation_final": [0.0, 0.0, 0.0],
            "bounding_box_ranges": {"x": [1.0, 3.0], "y": [-2.0, 1.0], "z": [0.0, 2.5]}}
    box = np.array([-0.5, 2.0, 1.25, 0.0, 0.0, -math.pi / 2, 2.0, 3.0, 2.5])
    np.testing.assert_allclose(room_layout_from_point_info(view), (box - ROOM_MEAN) / ROOM_STD, rtol=1e-6)
    # the loader falls back to point_info when the TNB room_layout npy is absent
    root = make_taskonomy(tmp_path / "t", points=1)
    for f in root.glob("*/room_layout/*.npy"):
        info = f.parent.parent / "point_info" / f.name.replace("room_layout.npy", "point_info.json")
        info.parent.mkdir(exist_ok=True)
        info.write_text(json.dumps(view))
        f.unlink()
    _, y = load_task_batch("room_layout", 2, 0, root)
    np.testing.assert_allclose(y.numpy(), np.tile((box - ROOM_MEAN) / ROOM_STD, (2, 1)), rtol=1e-5)


def test_errors_name_the_file(tmp_path: Path, taskonomy: Path) -> None:
    with pytest.raises(DataError, match="needs Taskonomy images"):
        load_task_batch("class_scene", 2, 0, None)
    with pytest.raises(FileNotFoundError, match="missing"):
        load_task_batch("class_scene", 2, 0, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no Taskonomy images found"):
        load_task_batch("class_scene", 2, 0, tmp_path / "empty")
    with pytest.raises(DataError, match="exceeds the 6 Taskonomy images"):
        load_task_batch("class_scene", 7, 0, taskonomy)
    for f in taskonomy.glob("*/normal/*.png"):
        f.unlink()
    with pytest.raises(DataError, match="normal/point_.*_domain_normal.png not found"):
        load_task_batch("normal", 2, 0, taskonomy)
    bad = next(iter(taskonomy.glob("*/class_scene/*.npy")))
    np.save(bad, np.ones(50))
    with pytest.raises(DataError, match="must have 365 \\(raw\\) or 63 entries, got 50"):
        load_task_batch("class_scene", 6, 0, taskonomy)
