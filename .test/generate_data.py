#!/usr/bin/env python3
"""Generate the synthetic data of the test workflow (``snakemake --cores 2 --directory .test``), seeded.

Writes, under ``.test/data/`` (or ``--out``):

- ``nb-suite-zero/``: a tiny NAS-Bench-Suite-Zero mirror in the official layout (NASLib ``zerocost`` branch):
  ``zc_nasbench201.json`` (tasks cifar10, cifar100) and ``zc_transbench101_micro.json`` (class_scene, jigsaw), each
  ``{task: {arch: {"idx", "arch", <proxy>: {"score", "time"}, ..., "val_accuracy"}}}``; ``nb201_accuracy_15625.csv``
  with all 15,625 NB201 cells and the real columns; ``SHA256SUMS``.
- ``cifar10_synthetic.npz``: 64 training and 16 test images (32x32x3 uint8, ``x_train, y_train, x_test, y_test,
  classes``), the npz layout the image loader accepts, for the extraction rule.

Nothing here is real data. Each cell gets a latent quality from its operations (convolutions help, ``none`` edges
hurt, a cell whose output is cut off from its input is degenerate) plus noise; accuracies are a monotone function of
it, and every proxy is the quality seen through its own transform and independent noise (``plain`` is
anti-correlated), so single proxies correlate with accuracy moderately and a combination does better, as in the
release. Awkward values of the release are reproduced: NASLib's ``-1e8`` NaN sentinel in a few records, a proxy
absent from one task (``zen`` on tnb101_micro/class_scene), ``"time": null``.

    python .test/generate_data.py            # regenerate in place (tests/test_dot_test_data.py checks it is current)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np

SEED = 2025
HERE = Path(__file__).resolve().parent
PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
           "snip", "synflow", "zen")
SENTINEL = -1e8
EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
# op id -> (quality weight, is a convolution with k x k kernel: k or 0), per space
NB201_OPS = {0: (0.25, 0), 1: (0.0, 0), 2: (1.0, 3), 3: (0.6, 1), 4: (0.1, 0)}  # skip none conv3 conv1 avgpool
TNB_MICRO_OPS = {0: (0.0, 0), 1: (0.25, 0), 2: (0.6, 1), 3: (1.0, 3)}  # none skip conv1 conv3
NONE_OP = {"nb201": 1, "tnb101_micro": 0}
# records per task (the release has many more; these keep the mirror small)
SIZES = {("nb201", "cifar10"): 800, ("nb201", "cifar100"): 400,
         ("tnb101_micro", "class_scene"): 400, ("tnb101_micro", "jigsaw"): 400}
# (space, task) -> {proxy: number of records holding the -1e8 sentinel}
SENTINELS = {("nb201", "cifar100"): {"grasp": 3}, ("tnb101_micro", "jigsaw"): {"jacov": 4, "epe_nas": 3}}
ABSENT = {("tnb101_micro", "class_scene"): {"zen"}}


def connected(arch: tuple[int, ...], none: int) -> bool:
    """Whether node 3 (the cell output) is reachable from node 0 over edges that are not ``none``."""
    reach = {0}
    for (i, j), op in zip(EDGES, arch, strict=True):  # edges are in topological order
        if op != none and i in reach:
            reach.add(j)
    return 3 in reach


def quality(arch: tuple[int, ...], ops: dict[int, tuple[float, int]], none: int, noise: float) -> float:
    """Latent quality of a cell: operation weights, a bonus for depth (edges into later nodes) and noise."""
    if not connected(arch, none):
        return -4.0 + 0.1 * noise
    depth = sum(ops[op][0] * (1 + 0.3 * i) for (i, _), op in zip(EDGES, arch, strict=True))
    return (depth - 2.0) / 1.2 + 0.35 * noise


def conv_counts(arch: tuple[int, ...], ops: dict[int, tuple[float, int]]) -> tuple[int, int]:
    """Number of 3x3 and of 1x1 convolution edges (params and flops are exact functions of them)."""
    kernels = [ops[op][1] for op in arch]
    return kernels.count(3), kernels.count(1)


def sig(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def proxies(q: float, n3: int, n1: int, rng: np.random.Generator, scale: float) -> dict[str, float]:
    """Every proxy of one record: a transform of the quality ``q`` plus its own noise (units like the release's)."""
    e = rng.standard_normal(len(PROXIES))
    params = scale * (0.073 + 0.0875 * n3 + 0.0097 * n1)
    flops = scale * 100 * (0.087 + 0.96 * n3 / 10 + 0.108 * n1 / 10)
    v = {
        "epe_nas": 20 + 6 * q + 5 * e[0],
        "fisher": float(np.exp(-3 + 0.5 * q + 0.6 * e[1])),
        "flops": flops,
        "grad_norm": 15 + 4 * q + 4 * e[3],
        "grasp": 3 + 1.0 * q + 3 * e[4],
        "jacov": -64 * (1 - 0.4 * sig(q + 0.8 * e[5])),
        "l2_norm": 120 + 12 * q + 10 * e[6] + 8 * n3,
        "nwot": 660 + 25 * q + 14 * e[7],
        "params": params,
        "plain": 0.07 - 0.01 * q + 0.02 * e[9],
        "snip": 30 + 7 * q + 6 * e[10],
        "synflow": 40 + 3 * n3 + n1 + 2.5 * q + 2 * e[11],
        "zen": 60 + 5 * q + 6 * e[12],
    }
    return {k: float(f"{x:.6g}") for k, x in v.items()}


def all_cells(n_ops: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(n_ops), repeat=len(EDGES)))


def nb201_accuracy(rng: np.random.Generator) -> tuple[list[dict], dict[tuple[int, ...], float]]:
    """All 15,625 NB201 cells: the CSV rows (index order = product order) and each cell's latent quality."""
    rows, qual = [], {}
    for idx, arch in enumerate(all_cells(5)):
        q = quality(arch, NB201_OPS, NONE_OP["nb201"], float(rng.standard_normal()))
        qual[arch] = q
        e = rng.standard_normal(3)
        row = {"nb201_index": idx, "arch": str(arch)}
        for name, split, lo, hi, noise, x in (("cifar10", "valid", 10, 91.6, 0.6, e[0]),
                                                ("cifar100", "valtest", 1, 73.5, 0.8, e[1]),
                                                ("ImageNet16-120", "valtest", 0.8, 47.3, 0.7, e[2])):
            acc = lo + (hi - lo) * sig(1.3 * q + 1.2) + noise * x if q > -3 else lo + abs(noise * x)
            row[f"{name}_{split}_acc_mean"] = round(min(max(acc, 0.1), 99.9), 2)
            row[f"{name}_{split}_acc_nseeds"] = 3 if idx % 37 else 2
        rows.append(row)
    return rows, qual


def release_file(space: str, tasks: dict[str, list[tuple[tuple[int, ...], float, float]]],
                 ops: dict[int, tuple[float, int]], rng: np.random.Generator) -> dict:
    """One zc_<space>.json: per task, records of (arch, quality, accuracy) with proxies, sentinels and absences."""
    out: dict[str, dict] = {}
    for task, cells in tasks.items():
        records = {}
        scale = 1.0 if space == "nb201" else 3.5
        for idx, (arch, q, acc) in enumerate(cells):
            n3, n1 = conv_counts(arch, ops)
            values = proxies(q, n3, n1, rng, scale)
            rec: dict = {"idx": str(idx), "arch": str(arch)}
            rec.update({p: {"score": values[p], "time": None} for p in PROXIES
                        if p not in ABSENT.get((space, task), ())})
            rec["val_accuracy"] = acc
            records[str(arch)] = rec
        keys = list(records)
        for proxy, n in SENTINELS.get((space, task), {}).items():
            for k in rng.choice(len(keys), size=n, replace=False):
                records[keys[int(k)]][proxy]["score"] = SENTINEL
        out[task] = records
    return out


def sample(cells: list[tuple[int, ...]], none: int, n: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """``n`` distinct non-degenerate cells (the release's tables hold connected cells), in a seeded order."""
    ok = [c for c in cells if connected(c, none)]
    return [ok[int(i)] for i in rng.choice(len(ok), size=n, replace=False)]


def images(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocky random colour images (a class colour, a gradient and 4x4-pixel noise blocks) and their labels."""
    y = np.arange(n, dtype=np.int64) % 10
    colours = rng.integers(40, 216, size=(10, 3))
    ramp = np.linspace(-40, 40, 32)
    blobs = rng.normal(0, 30, size=(n, 8, 8, 3)).repeat(4, axis=1).repeat(4, axis=2)  # 4x4 pixel blocks
    x = colours[y][:, None, None, :] + ramp[None, :, None, None] + blobs
    return np.clip(x, 0, 255).astype(np.uint8), y


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with a fixed timestamp on every member, so the file's bytes depend on the data only."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            zf.writestr(info, buf.getvalue())


def generate(out: Path) -> list[Path]:
    """Write every file under ``out``; returns their paths."""
    rng = np.random.default_rng(SEED)
    mirror = out / "nb-suite-zero"
    mirror.mkdir(parents=True, exist_ok=True)
    rows, nb201_q = nb201_accuracy(rng)
    acc_of = {r["arch"]: r for r in rows}
    column = {"cifar10": "cifar10_valid_acc_mean", "cifar100": "cifar100_valtest_acc_mean"}
    nb201_cells = sample(all_cells(5), NONE_OP["nb201"], SIZES[("nb201", "cifar10")], rng)
    nb201 = {task: [(a, nb201_q[a], acc_of[str(a)][column[task]]) for a in nb201_cells[:SIZES[("nb201", task)]]]
             for task in ("cifar10", "cifar100")}
    tnb_cells = sample(all_cells(4), NONE_OP["tnb101_micro"], SIZES[("tnb101_micro", "jigsaw")], rng)
    tnb: dict[str, list] = {}
    for task, lo, hi in (("class_scene", 30.0, 55.0), ("jigsaw", 70.0, 95.0)):
        cells = []
        for a in tnb_cells:
            q = quality(a, TNB_MICRO_OPS, NONE_OP["tnb101_micro"], float(rng.standard_normal()))
            cells.append((a, q, round(lo + (hi - lo) * sig(1.2 * q + 0.8) + 0.8 * float(rng.standard_normal()), 4)))
        tnb[task] = cells

    sums = {}
    for name, space, tasks, ops in (("zc_nasbench201.json", "nb201", nb201, NB201_OPS),
                                    ("zc_transbench101_micro.json", "tnb101_micro", tnb, TNB_MICRO_OPS)):
        text = json.dumps(release_file(space, tasks, ops, rng), separators=(",", ":"))
        sums[name] = write(mirror / name, text.encode())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sums["nb201_accuracy_15625.csv"] = write(mirror / "nb201_accuracy_15625.csv", buf.getvalue().encode())
    (mirror / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))

    x_train, y_train = images(rng, 64)
    x_test, y_test = images(rng, 16)
    npz = out / "cifar10_synthetic.npz"
    classes = np.array(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
    write_npz(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, classes=classes)
    return [*(mirror / n for n in sums), mirror / "SHA256SUMS", npz]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", type=Path, default=HERE / "data", help="output folder (default: .test/data)")
    for path in generate(ap.parse_args().out):
        print(f"{path}\t{path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
