"""Taskonomy minibatches for the TransNAS-Bench-101 tasks, from a folder in the official layout (users supply it).

Layout (Taskonomy, as TransNAS-Bench-101's and NASLib's ``TaskonomyDataset`` read it)::

    ROOT/<building>/rgb/point_<p>_view_<v>_domain_rgb.png                    input image (any size, RGB)
    ROOT/<building>/class_object/point_<p>_view_<v>_domain_class_object.npy  1000 ImageNet class probabilities
    ROOT/<building>/class_scene/point_<p>_view_<v>_domain_class_scene.npy    365 Places scene probabilities
    ROOT/<building>/room_layout/..._domain_room_layout.npy                    9-vector (TransNAS-Bench-101), or
    ROOT/<building>/point_info/..._domain_point_info.json                     camera + room box (NASLib derives
                                                                              the 9-vector from it)
    ROOT/<building>/segmentsemantic/..._domain_segmentsemantic.png            per-pixel class ids (0 = unlabelled)
    ROOT/<building>/normal/..._domain_normal.png                              surface normals (RGB)
    ROOT/class_object_selected.npy, ROOT/class_scene_selected.npy             NASLib's 0/1 masks of the 100 / 63
                                                                              classes kept (needed only when the
                                                                              labels have 1000 / 365 entries)
    ROOT/permutations_hamming_max_1000.npy                                    jigsaw permutation set (optional)

Every ``rgb`` image found under ``ROOT/*/rgb/`` is a sample (sorted by path; point ROOT at a folder holding only the
buildings of the split you want). A batch is a seeded draw without replacement, processed like NASLib's
transforms without the random augmentation (same seed, same tensors): resize to 256 x 256 (bilinear; labels
nearest for segmentation), scale to [0, 1], normalise with the task's mean / std. Labels per task: class_* the kept
classes' probabilities renormalised to sum 1 (TNB trains against these soft labels); room_layout the 9-vector;
segmentsemantic ids - 1 with 0 folded into 1 (17 classes); normal the [0, 1] normal image; autoencoder the input
image itself; jigsaw a random permutation id with the 9 tiles (64 x 64, [0, 1], not normalised) cut in that order
from the 255 x 255 image after a 0.9 centre crop (``MakeJigsawPuzzle``). Without the official permutation file a
fixed set of 1000 distinct permutations (seed 0) is used.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import torch

from evoproxy.data.cifar import DataError

TASKONOMY_TASKS: tuple[str, ...] = (
    "class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic", "normal", "autoencoder",
)
SIDE = 256
NUM_CLASSES = {"class_object": (1000, 100), "class_scene": (365, 63)}
"""Raw Taskonomy label size and the classes TransNAS-Bench-101 keeps."""

NORMALIZATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    **{t: ((0.5224, 0.5222, 0.5221), (0.2234, 0.2235, 0.2236)) for t in ("class_object", "class_scene", "room_layout")},
    **{t: ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) for t in ("segmentsemantic", "normal", "autoencoder")},
}
"""Input mean / std of NASLib's Taskonomy configs (jigsaw tiles are not normalised)."""

ROOM_MEAN = np.array([-1.64378987e-02, 7.03680296e-02, -2.72496318e00, 1.56155458e00, -2.83141191e-04,
                      -1.57136446e00, 4.81219593e00, 3.69077521e00, 2.61998101e00])
ROOM_STD = np.array([0.73644884, 0.53726124, 1.45194796, 0.19338562, 0.01549811, 0.42258508, 2.80763433,
                     1.92678054, 0.89655357])
JIGSAW_CLASSES, JIGSAW_IMAGE, JIGSAW_TILE = 1000, 255, 64


def _pil():  # noqa: ANN202 - Pillow ships with matplotlib, a dependency
    from PIL import Image

    return Image


def list_samples(root: Path) -> list[Path]:
    """The rgb images of ``root/<building>/rgb/`` (sorted)."""
    files = sorted(root.glob("*/rgb/*_domain_rgb.png"))
    if not files:
        raise DataError(f"{root}: no Taskonomy images found (expected <building>/rgb/point_*_domain_rgb.png)")
    return files


def label_path(rgb: Path, domain: str, ext: str) -> Path:
    """The label file of ``domain`` for an rgb image (same building, point and view)."""
    stem = rgb.name[: -len("_domain_rgb.png")]
    return rgb.parent.parent / domain / f"{stem}_domain_{domain}.{ext}"


def _require(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"label file {path} not found (Taskonomy layout: <building>/<domain>/<point>_domain_<domain>)")
    return path


def read_rgb(path: Path, size: int) -> np.ndarray:
    """An RGB image resized to ``size`` x ``size`` (bilinear), float32 HWC in [0, 1]."""
    try:
        with _pil().open(path) as im:
            im = im.convert("RGB").resize((size, size), _pil().BILINEAR)
            return np.asarray(im, dtype=np.float32) / 255.0
    except OSError as exc:
        raise DataError(f"{path}: cannot read image: {exc}") from exc


def _class_label(path: Path, task: str, root: Path) -> np.ndarray:
    raw_n, kept = NUM_CLASSES[task]
    try:
        p = np.asarray(np.load(path), dtype=np.float64).reshape(-1)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read {task} label: {exc}") from exc
    if len(p) == raw_n:
        mask_file = root / f"{task}_selected.npy"
        if not mask_file.exists():
            raise DataError(f"{path}: {task} label has the raw {raw_n} classes; put NASLib's {mask_file.name} (0/1 "
                            f"mask of the {kept} classes TransNAS-Bench-101 keeps) in {root}, or give {kept}-class labels")
        mask = np.load(mask_file).astype(bool)
        if mask.shape != (raw_n,) or mask.sum() != kept:
            raise DataError(f"{mask_file}: expected a 0/1 mask of {raw_n} entries with {kept} ones")
        p = p[mask]
    elif len(p) != kept:
        raise DataError(f"{path}: {task} label must have {raw_n} (raw) or {kept} entries, got {len(p)}")
    total = p.sum()
    return (p / total if total > 0 else p).astype(np.float32)


# ----------------------------------------------------------------------------------------- room layout (NASLib)
def _euler2mat(ai: float, aj: float, ak: float) -> np.ndarray:
    """Rotation of static-frame x, y, z Euler angles (transforms3d ``sxyz``): Rz(ak) Ry(aj) Rx(ai)."""
    si, sj, sk = math.sin(ai), math.sin(aj), math.sin(ak)
    ci, cj, ck = math.cos(ai), math.cos(aj), math.cos(ak)
    cc, cs, sc, ss = ci * ck, ci * sk, si * ck, si * sk
    return np.array([[cj * ck, sj * sc - cs, sj * cc + ss],
                     [cj * sk, sj * ss + cc, sj * cs - sc],
                     [-sj, cj * si, cj * ci]])


def _mat2euler(m: np.ndarray) -> tuple[float, float, float]:
    """Inverse of :func:`_euler2mat` (transforms3d ``mat2euler(..., 'sxyz')``)."""
    cy = math.hypot(m[0, 0], m[1, 0])
    if cy > np.finfo(float).eps * 4.0:
        return math.atan2(m[2, 1], m[2, 2]), math.atan2(-m[2, 0], cy), math.atan2(m[1, 0], m[0, 0])
    return math.atan2(-m[1, 2], m[1, 1]), math.atan2(-m[2, 0], cy), 0.0


def _camera_matrix(view: dict) -> np.ndarray:
    cam = np.eye(4)
    cam[:3, :3] = _euler2mat(*view["camera_rotation_final"])
    cam[:3, 3] = view["camera_location"]
    cam[[0, 1]] = cam[[1, 0]]  # "for some reason the x and y are flipped in room layout"
    cam[1] = -cam[1]
    return cam


def room_layout_from_point_info(view: dict) -> np.ndarray:
    """The 9-vector (box centre in camera coordinates, camera Euler angles, box extents), standardised, that
    NASLib's ``point_info2room_layout`` derives from a Taskonomy ``point_info`` record (world x-major)."""
    b = view["bounding_box_ranges"]
    ranges = np.array([b["x"], -np.asarray(b["y"], dtype=float)[::-1], b["z"]], dtype=float)
    cam = _camera_matrix(view)
    best: tuple[float, np.ndarray] | None = None
    for k in range(4):  # rotate the world so that the camera looks within 45 degrees of +x
        c, s = math.cos(k * math.pi / 2), math.sin(k * math.pi / 2)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        x_in_cam = cam[:3, :3].T @ (rot @ np.array([1.0, 0.0, 0.0]))
        away = math.degrees(math.acos(float(np.clip(-x_in_cam[2], -1.0, 1.0))))
        if best is None or away < best[0]:
            best = (away, np.linalg.inv(rot))
    world = np.eye(4)
    world[:3, :3] = best[1]
    ranges = world[:3, :3] @ ranges
    ranges = np.sort(ranges, axis=1)
    cam = world @ cam
    euler = _mat2euler(cam[:3, :3])
    vertices = np.array(list(itertools.product(*ranges)))
    homog = np.concatenate([vertices, np.ones((len(vertices), 1))], axis=1)
    centre = (homog @ np.linalg.inv(cam).T)[:, :3].mean(axis=0)
    box = np.hstack([centre, euler, ranges[:, 1] - ranges[:, 0]])
    return ((box - ROOM_MEAN) / ROOM_STD).astype(np.float32)


def _room_label(rgb: Path) -> np.ndarray:
    npy = label_path(rgb, "room_layout", "npy")
    if npy.exists():
        v = np.asarray(np.load(npy), dtype=np.float32).reshape(-1)
    else:
        info = label_path(rgb, "point_info", "json")
        if not info.exists():
            raise DataError(f"no room_layout label for {rgb}: expected {npy} or {info}")
        try:
            v = room_layout_from_point_info(json.loads(info.read_text()))
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(f"{info}: not a Taskonomy point_info record ({exc})") from exc
    if v.shape != (9,):
        raise DataError(f"{npy}: room_layout label must have 9 entries, got {v.shape}")
    return v


def _segment_label(path: Path) -> np.ndarray:
    try:
        with _pil().open(path) as im:
            lab = np.asarray(im)
    except OSError as exc:
        raise DataError(f"{path}: cannot read segmentation label: {exc}") from exc
    if lab.ndim == 3:
        lab = lab[..., 0]
    lab = lab.astype(np.int64)
    lab[lab == 0] = 1
    lab -= 1
    if lab.max() > 16:
        raise DataError(f"{path}: segmentation ids must be 0..17, got {lab.max() + 1}")
    im = _pil().fromarray(lab.astype(np.uint8)).resize((SIDE, SIDE), _pil().NEAREST)
    return np.asarray(im, dtype=np.int64)


# ----------------------------------------------------------------------------------------------------- jigsaw
def permutation_set(root: Path) -> np.ndarray:
    """The 1000 jigsaw permutations: ``root/permutations_hamming_max_1000.npy`` when present (the official file),
    else a fixed set of 1000 distinct permutations of 9 tiles drawn with seed 0."""
    official = root / f"permutations_hamming_max_{JIGSAW_CLASSES}.npy"
    if official.exists():
        perms = np.asarray(np.load(official), dtype=np.int64)
        if perms.shape != (JIGSAW_CLASSES, 9) or perms.min() < 0 or perms.max() > 8:
            raise DataError(f"{official}: expected {JIGSAW_CLASSES} permutations of 0..8")
        return perms
    rng = np.random.default_rng(0)
    seen: dict[tuple[int, ...], None] = {}
    while len(seen) < JIGSAW_CLASSES:
        seen.setdefault(tuple(int(v) for v in rng.permutation(9)), None)
    return np.array(list(seen), dtype=np.int64)


def jigsaw_tiles(path: Path, permutation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(9, 3, 64, 64) tiles in [0, 1]: 255 x 255 image, 0.9 centre crop resized back, tile n cut from the cell
    ``permutation[n]`` of the 3 x 3 grid at a random offset (``image2tiles``)."""
    Image = _pil()
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((JIGSAW_IMAGE, JIGSAW_IMAGE), Image.BILINEAR)
    except OSError as exc:
        raise DataError(f"{path}: cannot read image: {exc}") from exc
    crop = JIGSAW_IMAGE * 0.9
    top = int(round((JIGSAW_IMAGE - crop) / 2.0))
    im = im.crop((top, top, top + crop, top + crop)).resize((JIGSAW_IMAGE, JIGSAW_IMAGE), Image.BILINEAR)
    img = np.asarray(im, dtype=np.float32) / 255.0
    unit = JIGSAW_IMAGE // 3
    tiles = np.empty((9, 3, JIGSAW_TILE, JIGSAW_TILE), dtype=np.float32)
    for n, pos in enumerate(permutation):
        i, j = rng.integers(0, unit - JIGSAW_TILE + 1, size=2)
        y, x = int(pos // 3) * unit + int(i), int(pos % 3) * unit + int(j)
        tiles[n] = img[y:y + JIGSAW_TILE, x:x + JIGSAW_TILE].transpose(2, 0, 1)
    return tiles


# ------------------------------------------------------------------------------------------------------ batch
def _normalise(x: np.ndarray, task: str) -> np.ndarray:
    mean, std = (np.asarray(v, dtype=np.float32).reshape(1, 1, 3) for v in NORMALIZATION[task])
    return (x - mean) / std


def load_taskonomy_batch(task: str, batch_size: int, seed: int,
                         root: str | os.PathLike[str] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` inputs and targets of ``task`` from the Taskonomy folder ``root``, a deterministic draw given
    ``seed``: inputs (N, 3, 256, 256) float32 (jigsaw: (N, 9, 3, 64, 64)); targets as described above."""
    if task not in TASKONOMY_TASKS:
        raise DataError(f"unknown Taskonomy task {task!r}; expected one of {TASKONOMY_TASKS}")
    if root is None:
        raise DataError(f"task {task} needs Taskonomy images, which evoproxy cannot download: pass the folder with "
                        "--data-file / --images DIR (DIR/<building>/rgb/point_*_domain_rgb.png and the task's "
                        "labels; see evoproxy.data.taskonomy)")
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"Taskonomy folder {root} not found")
    if not root.is_dir():
        raise DataError(f"{root}: Taskonomy data must be a folder (<building>/rgb/..., <building>/<domain>/...)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    files = list_samples(root)
    if batch_size > len(files):
        raise DataError(f"batch_size {batch_size} exceeds the {len(files)} Taskonomy images in {root}")
    rng = np.random.default_rng(seed)
    chosen = [files[i] for i in rng.choice(len(files), size=batch_size, replace=False)]
    if task == "jigsaw":
        perms = permutation_set(root)
        labels = rng.integers(0, JIGSAW_CLASSES, size=batch_size)
        x = np.stack([jigsaw_tiles(f, perms[k], rng) for f, k in zip(chosen, labels, strict=True)])
        return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    imgs = np.stack([_normalise(read_rgb(f, SIDE), task) for f in chosen]).transpose(0, 3, 1, 2)
    x = torch.from_numpy(np.ascontiguousarray(imgs, dtype=np.float32))
    if task in NUM_CLASSES:
        y = np.stack([_class_label(_require(label_path(f, task, "npy")), task, root) for f in chosen])
    elif task == "room_layout":
        y = np.stack([_room_label(f) for f in chosen])
    elif task == "segmentsemantic":
        y = np.stack([_segment_label(_require(label_path(f, task, "png"))) for f in chosen])
    elif task == "normal":
        y = np.stack([read_rgb(_require(label_path(f, task, "png")), SIDE) for f in chosen]).transpose(0, 3, 1, 2)
    else:  # autoencoder: the target is the (normalised) input
        return x, x.clone()
    return x, torch.from_numpy(np.ascontiguousarray(y))
