"""Copy sections of a ``results/report.md`` into a marked block of README.md (numbers are never typed by hand).

    .venv/bin/python benchmarks/readme_results.py --report /path/to/results/report.md --name paper-results \
        --sections "Win counts" "Multi-problem protocol" "Runs" "NAS on NAS-Bench-201" [--intro TEXT]
    .venv/bin/python benchmarks/readme_results.py --file benchmarks/results/methods.md --name methods

Each ``--sections`` item selects the ``## `` section of the report whose title starts with it (with its ``###``
subsections); they are written, demoted one level, between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``.
Figure links are dropped (they point into the report's folder). ``--file`` copies a whole generated markdown file
(a benchmark's results) instead.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdsection import write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def sections(text: str) -> dict[str, str]:
    """``## `` title -> the section's body (up to the next ``## ``)."""
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p.split("\n", 1)[1] if "\n" in p else "" for p in parts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--report", help="a results/report.md")
    src.add_argument("--file", help="a generated markdown file, copied whole")
    ap.add_argument("--readme", default=str(REPO / "README.md"))
    ap.add_argument("--name", required=True, help="marker name of the README block")
    ap.add_argument("--sections", nargs="+", default=[], help="title prefixes of the report's ## sections")
    ap.add_argument("--intro", default="", help="paragraph put before the copied sections")
    args = ap.parse_args()
    out = [args.intro.strip()] if args.intro.strip() else []
    if args.file:
        write_section(args.readme, args.name, "\n\n".join([*out, Path(args.file).read_text().strip()]))
        return
    if not args.sections:
        raise SystemExit("--report needs --sections")
    found = sections(Path(args.report).read_text())
    for prefix in args.sections:
        title = next((t for t in found if t.startswith(prefix)), None)
        if title is None:
            raise SystemExit(f"{args.report}: no '## {prefix}...' section; have: {', '.join(found)}")
        body = re.sub(r"^(#+) ", r"#\1 ", found[title], flags=re.M)
        body = "\n".join(line for line in body.splitlines() if not line.startswith("!["))
        out.append(f"### {title}\n\n{body.strip()}")
    write_section(args.readme, args.name, "\n\n".join(out))


if __name__ == "__main__":
    main()
