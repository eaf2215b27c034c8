"""The ``sigprop`` command line.

Each subcommand lives in its own module of this package, exposing
``add_parser(subparsers)`` (its options) and ``run(args, out, err) -> int``
(its logic). :func:`main` is what the console script calls; tests call it
in-process with their own streams.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TextIO

from ._common import ExitCode, fail

__all__ = ["main", "ExitCode", "build_parser"]

# module name -> imported lazily so that no subcommand pulls torch into another
SUBCOMMANDS = [
    "equilibrium",
    "eoc",
    "maps",
    "asymptotics",
    "phase_diagram",
    "validate_run",
    "validate",
    "report",
]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, for in-process use."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per available subcommand."""
    from sigprop import __version__

    parser = _Parser(
        prog="sigprop",
        description="Mean-field signal propagation and the equilibrium layer.",
    )
    parser.add_argument("--version", action="version", version=f"sigprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"sigprop.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sigprop.cli.{name}":
                continue
            raise
        sp = mod.add_parser(sub)
        sp.set_defaults(_module=mod)
    return parser


def main(
    argv: list[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (never raises on bad input)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        err.write(f"sigprop: error: {exc}\n")
        err.write(parser.format_usage())
        return int(ExitCode.USAGE)
    except SystemExit as exc:  # --help and --version
        code = exc.code
        return int(code) if isinstance(code, int) else 0
    if getattr(args, "command", None) is None:
        err.write(parser.format_help())
        return int(ExitCode.USAGE)
    try:
        return int(args._module.run(args, out, err))
    except Exception as exc:  # noqa: BLE001 - every error ends as a message
        return fail(exc, err)


def console() -> None:  # pragma: no cover - the console-script entry point
    raise SystemExit(main())
