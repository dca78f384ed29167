"""``evoproxy download``: fetch the NAS-Bench-Suite-Zero files (official sources or a local mirror)."""

from __future__ import annotations

import argparse
import os

from evoproxy.release.download import download


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("download", help="fetch the NAS-Bench-Suite-Zero files (verified by sha256)")
    p.add_argument("--dest", required=True, help="folder to write the files and PROVENANCE.json into")
    p.add_argument("--mirror", default=os.environ.get("EVOPROXY_MIRROR") or None,
                   help="local folder with the official files and SHA256SUMS (default: $EVOPROXY_MIRROR)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="files to fetch: file name, stem (zc_nasbench201) or space (nb201); default: the five release files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    done = download(args.dest, mirror=args.mirror, only=args.only)
    for name, entry in done.items():
        print(f"{name}\t{entry['sha256']}\t{entry['source']}")
    return 0
