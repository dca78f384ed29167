"""Atomic file writes: a reader never sees a half-written file under its final name."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class OutputPathError(OSError):
    """An output path that cannot be written (a folder where a file is expected, a file where a folder is)."""

    user_error = True


def ensure_dir(path: str | os.PathLike[str], what: str = "output folder", create: bool = True) -> Path:
    """Create folder ``path`` (and parents) unless ``create`` is false; a clear error when it or a parent is an
    existing file."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise OutputPathError(f"{what} {path}: {p} is a file, expected a folder")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def check_output_file(path: str | os.PathLike[str], what: str = "--out") -> Path:
    """Fail before any work when ``path`` cannot become an output file: it is a folder, or a parent is a file."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; expected a file name")
    for p in path.parents:
        if p.exists() and not p.is_dir():
            raise OutputPathError(f"{what} {path}: {p} is a file, expected a folder")
    return path


def _part_prefix(final: Path) -> str:
    return f".{final.name}.{socket.gethostname()}."


def _remove_stale_parts(final: Path) -> None:
    """Delete temporary files of ``final`` left by a killed writer on this host (its process no longer exists)."""
    prefix = _part_prefix(final)
    for part in final.parent.glob(f"{glob.escape(prefix)}*.part"):
        pid = part.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                part.unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it onto ``final`` only if the block succeeds.

    The temporary file is named ``.<name>.<host>.<pid>.<random>.part``; a writer removes the ones of the same file
    left by killed processes on its host (kill -9 leaves them behind), never another live writer's."""
    final = Path(final)
    check_output_file(final, "output")
    ensure_dir(final.parent)
    _remove_stale_parts(final)
    fd, tmp = tempfile.mkstemp(prefix=f"{_part_prefix(final)}{os.getpid()}.", suffix=".part", dir=final.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give results the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """Parse a JSON file; a missing or malformed file gives one clear error naming it."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def read_yaml(path: str | os.PathLike[str], what: str = "YAML file") -> Any:
    """Parse a YAML (or JSON) file; a missing or malformed file gives one clear error naming it."""
    import yaml

    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{what} {path}: not valid YAML/JSON ({' '.join(str(exc).split())})") from None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (NaN/inf written as null)."""
    write_text_atomic(path, json.dumps(_finite(obj), indent=2, sort_keys=False) + "\n")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON is standard (json.dumps would write NaN)."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _finite(obj.item())
    return obj


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file, streamed (sha256 for benchmark files, md5 where a site publishes md5)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
