"""The ``evoproxy`` command: one subcommand per pipeline stage.

Each stage's subcommand lives in its own module here (``cli/<stage>.py``) exposing ``register(subparsers)``; the
module parses arguments, calls the library, and prints. No pipeline logic lives in the CLI.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from evoproxy import __version__

# Subcommand modules, in the order the pipeline runs them. A module missing here is simply not offered.
SUBCOMMANDS: tuple[str, ...] = (
    "download",
    "ingest",
    "baselines",
    "extract",
    "fill",
    "evolve",
    "select",
    "score",
    "supervised",
    "evaluate",
    "report",
    "search",
    "nas_table",
)


class CLIError(Exception):
    """An error to show the user as one clear line (no traceback)."""


def add_split_arguments(p: argparse.ArgumentParser, default: str) -> None:
    """The shared train/test split's flags (``--n-train``, ``--max-train-fraction``, ``--split-seed``); ``default``
    says where an omitted one comes from."""
    p.add_argument("--n-train", type=int, help=f"split: training archs per problem (default: {default})")
    p.add_argument("--max-train-fraction", type=float, help=f"split: cap of the training split (default: {default})")
    p.add_argument("--split-seed", type=int, help=f"split: seed (default: {default})")


def split_overrides(args: argparse.Namespace) -> dict[str, int | float]:
    """The split keys (:class:`evoproxy.problems.SplitConfig`) that :func:`add_split_arguments`' flags set."""
    flags = {"n_train": args.n_train, "max_train_fraction": args.max_train_fraction, "seed": args.split_seed}
    return {key: value for key, value in flags.items() if value is not None}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``only``, just that subcommand's module is imported (fast start-up for pipeline jobs)."""
    parser = argparse.ArgumentParser(prog="evoproxy", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"evoproxy {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"evoproxy.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"evoproxy.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Import only the requested stage's CLI module (each pulls in torch, scipy or sympy); all of them for --help.
    command = next((a for a in argv if not a.startswith("-")), None)
    module = command.replace("-", "_") if command else None
    only = module if module in SUBCOMMANDS and "-h" not in argv[:argv.index(command)] else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("evoproxy: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every library error reaches the user as one clear line
        if args.verbose or not _is_user_error(exc):
            raise
        print(f"evoproxy {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _is_user_error(exc: BaseException) -> bool:
    """Errors caused by input or environment (shown as one line) rather than bugs (shown with traceback)."""
    if getattr(exc, "user_error", False):  # library errors about input or environment opt in with this flag
        return True
    return isinstance(exc, (CLIError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError,
                            NotADirectoryError, FileExistsError))


if __name__ == "__main__":
    sys.exit(main())
