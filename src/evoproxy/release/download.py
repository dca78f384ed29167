"""Fetch the NAS-Bench-Suite-Zero files from their official sources or a local mirror, verified by sha256.

Official sources are the Google Drive ids of NASLib's ``scripts/bash_scripts/download_nbs_zero.sh``. A mirror is a
folder with the files under their official names plus a ``SHA256SUMS`` file (``sha256sum`` format); every copied
file is checked against it. Files are written to a temporary name and renamed only once complete and verified, and
``DEST/PROVENANCE.json`` records the source and sha256 of each file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evoproxy.fileio import atomic_path, ensure_dir, file_digest, write_json_atomic

log = logging.getLogger(__name__)

PROVENANCE = "PROVENANCE.json"
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True)
class Source:
    """Where a release file comes from."""

    filename: str
    gdrive_id: str | None
    space: str | None = None
    note: str = ""


SOURCES: dict[str, Source] = {
    s.filename: s
    for s in (
        Source("zc_nasbench101.json", "1Rkse44EWgYdBS34iyhjSs9Y2l0fxPCpU", "nb101"),
        Source("zc_nasbench201.json", "1R7n7GpFHAjUZpPISzbhxH0QjubnvZM5H", "nb201"),
        Source("zc_nasbench301.json", "1RddgmwqjWJ1czGT8gEPB8qqhUHazp92G", "nb301"),
        Source("zc_transbench101_micro.json", "1SBOVAyhLCBTAJiU_fo7hLRknNrGNqFk7", "tnb101_micro"),
        Source("zc_transbench101_macro.json", "1teH8JcQsamZngUD_DMQyNkCoUYYSTM0M", "tnb101_macro"),
        Source(
            "nb201_accuracy_15625.csv",
            None,
            None,
            "NATS-Bench 200-epoch accuracies of all 15,625 NB201 cells (no official single-file release): "
            "provide it through a mirror",
        ),
    )
}
RELEASE_FILES: tuple[str, ...] = tuple(f for f, s in SOURCES.items() if s.gdrive_id)

# Known sha256 of the official files. Empty by default: the release has no published checksums, so a first download
# records them in PROVENANCE.json; add entries here (or pass expected=...) to pin a release.
EXPECTED_SHA256: dict[str, str] = {}


class DownloadError(RuntimeError):
    """A file that could not be fetched or verified; the message says what to do instead."""

    user_error = True


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, streamed."""
    return file_digest(path, "sha256")


def resolve_names(only: Iterable[str] | None) -> list[str]:
    """Map ``--only`` values (file name, file stem or space name) to release file names."""
    if not only:
        return list(RELEASE_FILES)
    by_key: dict[str, str] = {}
    for f, s in SOURCES.items():
        by_key[f] = f
        by_key[Path(f).stem] = f
        if s.space:
            by_key[s.space] = f
    out = []
    for name in only:
        if name not in by_key:
            raise DownloadError(f"unknown file {name!r}; known: {', '.join(sorted(by_key))}")
        out.append(by_key[name])
    return out


def read_checksums(mirror: Path) -> dict[str, str]:
    """Parse ``MIRROR/SHA256SUMS`` (``<hex>  <name>`` lines)."""
    path = mirror / CHECKSUMS
    if not path.exists():
        raise DownloadError(f"mirror {mirror} has no {CHECKSUMS} file: a mirror must list the sha256 of its files")
    sums: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DownloadError(f"{path}:{lineno}: expected '<sha256>  <file name>', got {line!r}")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _load_provenance(dest: Path) -> dict[str, dict]:
    path = dest / PROVENANCE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DownloadError(f"{path}: corrupt provenance file ({exc}); delete it to re-download") from exc


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _from_mirror(name: str, mirror: Path, sums: dict[str, str], dest: Path) -> dict:
    src = mirror / name
    if not src.exists():
        raise DownloadError(f"mirror {mirror} has no file {name}")
    if name not in sums:
        raise DownloadError(f"{mirror / CHECKSUMS} lists no checksum for {name}")
    expected = sums[name]
    target = dest / name
    if target.exists() and sha256_of(target) == expected:
        log.info("%s: already present and verified", target)
    else:
        with atomic_path(target) as tmp:
            shutil.copyfile(src, tmp)
            got = sha256_of(tmp)
            if got != expected:
                raise DownloadError(f"{src}: sha256 {got} does not match {CHECKSUMS} entry {expected}")
        log.info("%s: copied from mirror and verified", target)
    return {"source": f"mirror:{src.resolve()}", "sha256": expected, "bytes": target.stat().st_size, "retrieved": _now()}


def _from_gdrive(name: str, dest: Path, expected: str | None) -> dict:
    source = SOURCES[name]
    hint = "Without network access, point --mirror DIR (or EVOPROXY_MIRROR=DIR) to a folder holding the official files and a SHA256SUMS."
    if source.gdrive_id is None:
        raise DownloadError(f"{name} has no official download ({source.note}). {hint}")
    try:
        import gdown
    except ImportError as exc:
        raise DownloadError(f"downloading {name} needs the 'gdown' package (pip install gdown). {hint}") from exc
    target = dest / name
    with atomic_path(target) as tmp:
        try:
            result = gdown.download(id=source.gdrive_id, output=str(tmp), quiet=False)
        except Exception as exc:  # noqa: BLE001 - gdown raises many types for network/quota failures
            raise DownloadError(f"could not download {name} (Google Drive id {source.gdrive_id}): {exc}. {hint}") from exc
        if result is None or not tmp.exists() or tmp.stat().st_size == 0:
            raise DownloadError(f"could not download {name} (Google Drive id {source.gdrive_id}). {hint}")
        with open(tmp, "rb") as fh:
            head = fh.read(1).strip()
        if name.endswith(".json") and head != b"{":
            raise DownloadError(f"{name}: Google Drive returned a non-JSON page (quota or access denied). {hint}")
        got = sha256_of(tmp)
        if expected and got != expected:
            raise DownloadError(f"{name}: downloaded sha256 {got} does not match the expected {expected}")
    return {"source": f"gdrive:{source.gdrive_id}", "sha256": got, "bytes": target.stat().st_size, "retrieved": _now()}


def download(
    dest: str | os.PathLike[str],
    mirror: str | os.PathLike[str] | None = None,
    only: Iterable[str] | None = None,
    expected: dict[str, str] | None = None,
) -> dict[str, dict]:
    """Fetch the release files into ``dest``; return the provenance entries written to ``dest/PROVENANCE.json``."""
    dest = ensure_dir(dest, "--dest")
    names = resolve_names(only)
    expected = {**EXPECTED_SHA256, **(expected or {})}
    done: dict[str, dict] = {}
    mirror_path = Path(mirror) if mirror else None
    if mirror_path is not None and not mirror_path.is_dir():
        raise DownloadError(f"mirror folder {mirror_path} does not exist")
    sums = read_checksums(mirror_path) if mirror_path else {}
    for name in names:
        target = dest / name
        prior = _load_provenance(dest).get(name)
        if mirror_path is None and prior and target.exists() and sha256_of(target) == prior.get("sha256"):
            log.info("%s: already downloaded (sha256 matches provenance)", target)
            done[name] = prior
            continue
        entry = _from_mirror(name, mirror_path, sums, dest) if mirror_path else _from_gdrive(name, dest, expected.get(name))
        done[name] = entry
        with _locked(dest):  # parallel jobs (one Snakemake job per file) share PROVENANCE.json
            provenance = _load_provenance(dest)
            provenance[name] = entry
            write_json_atomic(dest / PROVENANCE, provenance)
    return done


@contextlib.contextmanager
def _locked(dest: Path):  # noqa: ANN202
    with open(dest / ".provenance.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
