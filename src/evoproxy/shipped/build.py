"""Write the shipped recommended proxy from a pipeline's final proxy, with its provenance.

    python -m evoproxy.shipped.build --formula results/evolve/multi/all/best.json \
        --data results/data [--out src/evoproxy/shipped/recommended.json]
"""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import Any

from evoproxy.fileio import read_json, write_json_atomic
from evoproxy.shipped import FILE


def provenance(run: dict[str, Any], data_dir: str | Path, formula_path: str | Path) -> dict[str, Any]:
    """Data (each space's release file and sha256 from the ingest manifests), config, seeds, git revision."""
    from evoproxy.report.report import git_revision

    data_dir = Path(data_dir)
    spaces = sorted({p.split("/", 1)[0] for p in run.get("trainset", [])})
    data = {}
    for s in spaces:
        manifest = data_dir / f"{s}.manifest.json"
        if not manifest.exists():
            raise FileNotFoundError(f"{manifest}: no ingest manifest for space {s!r} of the proxy's training set")
        m = read_json(manifest, "ingest manifest")
        data[m["source"]] = m["source_sha256"]
    return {"formula_file": str(formula_path), "trainset": run.get("trainset"), "data_sha256": data,
            "split": run.get("split"), "config": run.get("config"), "seeds": run.get("seed"),
            "git_revision": git_revision(), "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def build(formula_path: str | Path, data_dir: str | Path, out: str | Path) -> dict[str, Any]:
    run = read_json(formula_path, "formula file")
    keep = {k: v for k, v in run.items() if k not in ("history", "hall_of_fame", "pareto")}
    keep["provenance"] = provenance(run, data_dir, formula_path)
    write_json_atomic(out, keep)
    return keep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--formula", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", default=str(Path(__file__).with_name(FILE)))
    args = p.parse_args(argv)
    run = build(args.formula, args.data, args.out)
    print(f"{args.out}: {run.get('text')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
