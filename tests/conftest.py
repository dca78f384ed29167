"""Shared fixtures: the real data mirror in ../shared (integration tests skip cleanly without it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVOPROXY_SHARED", REPO.parent / "shared"))
MIRROR = SHARED / "benchmarks" / "nb-suite-zero"
CIFAR_NPZ = SHARED / "datasets" / "cifar10-subset" / "cifar10_subset_uint8.npz"


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The NAS-Bench-Suite-Zero mirror (official layout); skips when ../shared is absent."""
    if not (MIRROR / "SHA256SUMS").exists():
        pytest.skip(f"data mirror not found at {MIRROR} (place ../shared beside the repo)")
    return MIRROR


@pytest.fixture(scope="session")
def cifar_npz() -> Path:
    """The real CIFAR-10 subset (npz); skips when ../shared is absent."""
    if not CIFAR_NPZ.exists():
        pytest.skip(f"CIFAR-10 subset not found at {CIFAR_NPZ} (place ../shared beside the repo)")
    return CIFAR_NPZ


@pytest.fixture(scope="session")
def ingested_dir(mirror_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All problems of the mirror ingested into ProblemTables once per test session."""
    from evoproxy.release.ingest import ingest

    out = tmp_path_factory.mktemp("ingested")
    ingest(mirror_dir, out)
    return out
