"""NAS-Bench-Suite-Zero release JSON -> one ProblemTable (Parquet) per (space, task).

Release layout (NASLib ``zerocost`` branch, ``naslib/data/zc_<space>.json``)::

    {"<task>": {"<arch>": {"idx": ..., "arch": ..., "<proxy>": {"score": float, "time": float|null}, ...,
                           "val_accuracy": float}}}

Rules applied here (documented in the README):
- arch keys are canonicalised per space (:mod:`evoproxy.encodings`); two keys with the same canonical form are an error.
- a proxy absent from every record of a task is recorded in ``absent_proxies`` and its column is all-NaN.
- missing scores follow the table-value rule (:func:`evoproxy.problems.proxy_value`): null, NaN, +/-inf and NASLib's
  -1e8 sentinel (any magnitude >= 1e8) become NaN. Per proxy the metadata counts every NaN (``nonfinite_counts``), the
  sentinels among them (``sentinel_counts``) and the records lacking the key while other records have it
  (``missing_counts``), each with a warning.
- a key repeated inside one JSON object (arch key, proxy key) keeps its last value, as JSON parsers do, and is
  counted in ``duplicate_keys`` with a warning.
- extra numeric keys (or unknown ``{"score": ...}`` entries) become extra float columns, with a warning.
- every error names the file, task and arch. All tables of a call are parsed before any is written, and each is
  written atomically, so a bad input leaves no output behind.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evoproxy import PROXIES
from evoproxy.encodings import ArchEncodingError, canonical_arch
from evoproxy.fileio import atomic_path, ensure_dir, write_json_atomic
from evoproxy.problems import (
    ACCURACY_TABLE,
    TARGET,
    ProblemTable,
    is_sentinel,
    problem_id,
    proxy_value,
    save_table,
    table_filename,
)
from evoproxy.release.download import SOURCES, sha256_of

log = logging.getLogger(__name__)

SPACE_FILES: dict[str, str] = {s.space: f for f, s in SOURCES.items() if s.space}
ACCURACY_CSV = "nb201_accuracy_15625.csv"
NB201_CELLS = 15_625
ACCURACY_COLUMNS = ("cifar10_valid_acc_mean", "cifar100_valtest_acc_mean", "ImageNet16-120_valtest_acc_mean")
_KNOWN_KEYS = {"idx", "arch", TARGET, *PROXIES}


class IngestError(ValueError):
    """A release file that does not have the documented layout."""


class _Object(dict):
    """A JSON object that remembers which of its keys occurred more than once (the last value is kept)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    obj.duplicates = [k for k, c in Counter(k for k, _ in pairs).items() if c > 1]
    return obj


def read_release(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a release JSON file, with a clear error for malformed or truncated content."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path}: malformed or truncated JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc})") from exc
    if not isinstance(data, dict) or not data:
        raise IngestError(f"{path}: expected an object mapping task names to records, got {type(data).__name__}")
    return data


def _score(value: Any, where: str) -> tuple[float, float | None, bool]:
    """(score, time, was the sentinel) of a proxy entry; missing scores become NaN (the table-value rule)."""
    if isinstance(value, dict):
        if "score" not in value:
            raise IngestError(f"{where}: proxy entry has no 'score' key")
        score, time = value.get("score"), value.get("time")
    else:
        score, time = value, None
    if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool)):
        raise IngestError(f"{where}: score must be a number, got {score!r}")
    t = float(time) if isinstance(time, (int, float)) and not isinstance(time, bool) else None
    return proxy_value(score), t, is_sentinel(score)


def task_to_table(space: str, task: str, records: Any, path: Path, sha256: str) -> ProblemTable:
    """Convert one task's records into a ProblemTable."""
    where_task = f"{path} task {task!r}"
    if not isinstance(records, dict):
        raise IngestError(f"{where_task}: expected an object of arch records, got {type(records).__name__}")
    if not records:
        raise IngestError(f"{where_task}: task has no records")
    rows: list[dict[str, float]] = []
    archs: list[str] = []
    seen: dict[str, str] = {}
    nonfinite = dict.fromkeys(PROXIES, 0)
    sentinels = dict.fromkeys(PROXIES, 0)
    keys_seen = dict.fromkeys(PROXIES, 0)
    duplicates = list(getattr(records, "duplicates", []))
    present: set[str] = set()
    extras: set[str] = set()
    ignored: set[str] = set()
    for key, rec in records.items():
        where = f"{where_task} arch {key!r}"
        if not isinstance(rec, dict):
            raise IngestError(f"{where}: record must be an object, got {type(rec).__name__}")
        try:
            arch = canonical_arch(space, rec.get("arch", key) if isinstance(rec.get("arch", key), str) else key)
        except ArchEncodingError as exc:
            raise IngestError(f"{where}: {exc}") from exc
        if arch in seen:
            raise IngestError(f"{where_task}: duplicate arch {arch!r} (keys {seen[arch]!r} and {key!r})")
        seen[arch] = key
        duplicates += [f"{key}.{k}" for k in getattr(rec, "duplicates", [])]
        if TARGET not in rec:
            raise IngestError(f"{where}: record has no {TARGET!r}")
        acc = rec[TARGET]
        if not isinstance(acc, (int, float)) or isinstance(acc, bool) or not math.isfinite(acc):
            raise IngestError(f"{where}: {TARGET} must be a finite number, got {acc!r}")
        row: dict[str, float] = {TARGET: float(acc)}
        for name, value in rec.items():
            if name in ("idx", "arch", TARGET):
                continue
            if name in PROXIES:
                s, t, sentinel = _score(value, f"{where} proxy {name!r}")
                present.add(name)
                keys_seen[name] += 1
                row[name] = s
                nonfinite[name] += math.isnan(s)
                sentinels[name] += sentinel
                if t is not None:
                    row[f"time_{name}"] = t
            elif isinstance(value, dict) and "score" in value:
                row[name] = _score(value, f"{where} key {name!r}")[0]
                extras.add(name)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                row[name] = proxy_value(value)
                extras.add(name)
            else:
                ignored.add(name)
        rows.append(row)
        archs.append(arch)
    missing = {p: len(records) - keys_seen[p] for p in PROXIES if p in present and keys_seen[p] < len(records)}
    for p in PROXIES:
        if p in missing:
            log.warning("%s: %d of %d records lack proxy %r (stored as NaN)", where_task, missing[p], len(records), p)
            nonfinite[p] += missing[p]
        if sentinels[p]:
            log.warning("%s: %d %r values are NASLib's -1e8 NaN sentinel (stored as NaN)", where_task, sentinels[p], p)
    if duplicates:
        log.warning("%s: %d duplicated JSON key(s), last value kept (e.g. %r)", where_task, len(duplicates),
                    duplicates[0])
    for name in sorted(extras):
        log.warning("%s: unknown numeric key %r kept as an extra column", where_task, name)
    for name in sorted(ignored):
        log.warning("%s: non-numeric key %r ignored", where_task, name)
    df = pd.DataFrame(rows)
    columns = {"arch": pd.Series(archs, dtype=object)}
    for p in PROXIES:
        columns[p] = df[p].astype(np.float64) if p in df else pd.Series(np.full(len(df), np.nan))
    columns[TARGET] = df[TARGET].astype(np.float64)
    for name in sorted(extras):
        columns[name] = df[name].astype(np.float64)
    for p in PROXIES:
        if f"time_{p}" in df:
            columns[f"time_{p}"] = df[f"time_{p}"].astype(np.float64)
    frame = pd.DataFrame(columns)
    absent = [p for p in PROXIES if p not in present]
    meta = {
        "source": path.name,
        "source_sha256": sha256,
        "absent_proxies": absent,
        "nonfinite_counts": {p: nonfinite[p] for p in PROXIES if p in present},
        "sentinel_counts": {p: sentinels[p] for p in PROXIES if p in present},
        "missing_counts": {p: missing.get(p, 0) for p in PROXIES if p in present},
        "duplicate_keys": len(duplicates),
        "extra_columns": sorted(extras),
    }
    return ProblemTable(space=space, task=task, df=frame, meta=meta)


def read_space(path: str | os.PathLike[str], space: str) -> list[ProblemTable]:
    """All tasks of one release file as ProblemTables (nothing written)."""
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path}: release file not found (run 'evoproxy download' first)")
    sha = sha256_of(path)
    data = read_release(path)
    return [task_to_table(space, task, recs, path, sha) for task, recs in data.items()]


def ingest(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    spaces: list[str] | None = None,
    accuracy: bool = True,
) -> list[Path]:
    """Ingest the release files in ``src`` into ``out``; return the paths written.

    ``spaces`` limits the files read (default: every release file present in ``src``; a space named explicitly must
    have its file). Writes ``<space>__<task>.parquet`` per task, ``<space>.manifest.json`` per space, and
    ``nb201_accuracy.parquet`` when ``accuracy`` and ``nb201_accuracy_15625.csv`` is present.
    """
    src, out = Path(src), Path(out)
    if src.is_file():
        raise IngestError(f"--src {src} is a file; expected the folder holding the release's zc_<space>.json files")
    if not src.is_dir():
        raise IngestError(f"source folder {src} does not exist")
    ensure_dir(out, "--out", create=False)
    if spaces:
        unknown = [s for s in spaces if s not in SPACE_FILES]
        if unknown:
            raise IngestError(f"unknown space(s) {unknown}; known: {sorted(SPACE_FILES)}")
        chosen = list(spaces)
    else:
        chosen = [s for s, f in SPACE_FILES.items() if (src / f).exists()]
        if not chosen:
            raise IngestError(f"{src}: no release files ({', '.join(SPACE_FILES.values())})")
    parsed = {space: read_space(src / SPACE_FILES[space], space) for space in chosen}
    written: list[Path] = []
    for space, tables in parsed.items():
        manifest = {}
        for table in tables:
            path = save_table(table, out / table_filename(table.space, table.task))
            written.append(path)
            manifest[problem_id(table.space, table.task)] = {
                "file": path.name,
                "n": table.n,
                "absent_proxies": table.meta["absent_proxies"],
                "nonfinite_counts": table.meta["nonfinite_counts"],
                "sentinel_counts": table.meta["sentinel_counts"],
            }
            log.info("%s: %d archs -> %s", table.id, table.n, path)
        mpath = out / f"{space}.manifest.json"
        write_json_atomic(mpath, {"space": space, "source": SPACE_FILES[space],
                                  "source_sha256": tables[0].meta["source_sha256"], "problems": manifest})
        written.append(mpath)
    if accuracy and (src / ACCURACY_CSV).exists():
        written.append(ingest_accuracy(src / ACCURACY_CSV, out / ACCURACY_TABLE))
    return written


def _bad_csv_line(path: Path) -> str:
    """Where a CSV that pandas cannot parse goes wrong: the first line with a different field count or cut off."""
    import csv as csvlib

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csvlib.reader(fh)
        try:
            width = len(next(reader))
            for row in reader:
                if len(row) != width:
                    return f"line {reader.line_num}: {len(row)} fields, expected {width} (truncated file?)"
        except csvlib.Error as exc:
            return f"line {reader.line_num}: {exc} (truncated file?)"
    return "unreadable CSV"


def ingest_accuracy(csv: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """NB201 accuracy CSV -> Parquet keyed by canonical arch, with the NB201 index.

    The file must hold every one of the 15,625 NB201 cells once (indices 0..15,624), each with finite accuracies; a
    truncated or incomplete file is refused with the file and line named (line 1 is the header)."""
    csv = Path(csv)
    try:
        df = pd.read_csv(csv)
    except pd.errors.ParserError as exc:
        raise IngestError(f"{csv}: {_bad_csv_line(csv)}") from exc
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise IngestError(f"{csv}: unreadable CSV ({exc})") from exc
    missing = [c for c in ("nb201_index", "arch", *ACCURACY_COLUMNS) if c not in df.columns]
    if missing:
        raise IngestError(f"{csv}: missing column(s) {missing}")
    for c in df.columns:
        if c == "arch":
            continue
        values = pd.to_numeric(df[c], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=np.float64)))
        if len(bad):
            raise IngestError(f"{csv}: line {bad[0] + 2}: column {c!r} is empty or not a finite number "
                              f"({len(bad)} such line(s); truncated file?)")
        df[c] = values
    if len(df) != NB201_CELLS:
        raise IngestError(f"{csv}: {len(df)} rows, expected all {NB201_CELLS:,} NB201 cells (truncated file?)")
    try:
        df["arch"] = [canonical_arch("nb201", a) for a in df["arch"]]
    except ArchEncodingError as exc:
        raise IngestError(f"{csv}: {exc}") from exc
    if df["arch"].duplicated().any():
        line = int(np.flatnonzero(df["arch"].duplicated())[0]) + 2
        raise IngestError(f"{csv}: line {line}: duplicate arch {df.loc[line - 2, 'arch']!r}")
    index = df["nb201_index"].to_numpy()
    if not np.array_equal(np.sort(index), np.arange(NB201_CELLS)):
        raise IngestError(f"{csv}: nb201_index must hold each of 0..{NB201_CELLS - 1} once")
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({
        b"evoproxy.source": json.dumps(csv.name).encode(),
        b"evoproxy.source_sha256": json.dumps(sha256_of(csv)).encode(),
        b"evoproxy.n": json.dumps(len(df)).encode(),
        b"evoproxy.splits": json.dumps({"cifar10": "valid", "cifar100": "valtest", "ImageNet16-120": "valtest"}).encode(),
    })
    out = Path(out)
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)
    return out
