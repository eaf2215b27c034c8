"""``sigprop report DIR``: figures and a Markdown report of a sweep folder.

Everything on the page comes from the records under ``DIR`` (written by
``sigprop validate``); the report is ``DIR/report.md`` with its figures in
``DIR/figures/`` and its numbers in ``DIR/report.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from ._common import ExitCode

__all__ = ["add_parser", "run", "NAME"]

NAME = "report"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report`` on an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="write the report of a validation sweep folder",
        description="Write DIR/report.md, DIR/report.json and DIR/figures/ "
                    "from the records of a sweep folder.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a sweep folder")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--json", action="store_true",
                   help="print the report's numbers as JSON")
    return p


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Execute ``report`` for parsed ``args``; return the exit code."""
    try:
        from sigprop.validation import build_report
    except ImportError as exc:
        err.write(
            "sigprop: error: `sigprop report` needs the validation extra "
            f"(pip install 'sigprop[validation]'): {exc}\n"
        )
        return int(ExitCode.ERROR)
    path = build_report(args.dir, figures=not args.no_figures)
    if args.json:
        out.write(json.dumps(json.loads((path.parent / "report.json").read_text()),
                             indent=1) + "\n")
    else:
        out.write(f"report: {path}\n")
    return int(ExitCode.OK)
