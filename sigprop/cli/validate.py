"""``sigprop validate``: run a sweep of validation runs and write its report.

``--profile`` (smoke, quick, paper) or ``--sweep FILE.toml`` says which runs;
``--out DIR`` keeps their records, so running the same command again runs
only what is missing. Runs execute in this process (default), in a pool of
``--jobs N`` processes, on a Dask ``LocalCluster`` (``--cluster local``) or
on a running Dask scheduler (``--scheduler ADDRESS``). The summary table and
the report (``DIR/report.md``) are written at the end. Torch and Dask are
imported only when the subcommand runs.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, TextIO

from ._common import ExitCode

__all__ = ["add_parser", "run", "NAME"]

NAME = "validate"


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be > 0; got {text}")
    return x


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``validate`` on an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="run a validation sweep (resumable) and write its report",
        description=(
            "Run a sweep of trained networks, record each run atomically under "
            "--out (re-running skips what is recorded), then write the summary "
            "table and the report comparing measured and predicted peak layers."
        ),
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--profile", choices=("smoke", "quick", "paper"),
                       help="a sweep shipped with sigprop")
    which.add_argument("--sweep", type=Path, metavar="FILE.toml",
                       help="a sweep file of your own")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the sweep's folder (records, summary, report)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                       help="worker processes on this machine (default 1: this "
                            "process)")
    where.add_argument("--cluster", choices=("local",),
                       help="start a Dask LocalCluster on this machine's cores "
                            "(--workers sets how many)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="send runs to a running Dask scheduler, e.g. "
                            "tcp://host:8786")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="workers of --cluster local (default: the cores)")
    p.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S",
                   help="seconds to wait for --scheduler (default 10)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-report", action="store_true",
                   help="skip the report (run `sigprop report DIR` later)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each run")
    return p


def _executor(args: argparse.Namespace) -> Any:
    from sigprop.validation import DaskExecutor, LocalExecutor

    if args.scheduler:
        return DaskExecutor(args.scheduler, timeout=args.timeout)
    if args.cluster == "local":
        return DaskExecutor.local(args.workers)
    return LocalExecutor(args.jobs)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Execute ``validate`` for parsed ``args``; return the exit code."""
    try:
        from sigprop.validation import build_report, load_sweep, run_sweep
    except ImportError as exc:
        err.write(
            "sigprop: error: `sigprop validate` needs the validation extra "
            f"(pip install 'sigprop[validation]'): {exc}\n"
        )
        return int(ExitCode.ERROR)

    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("sigprop.validation")
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        sweep = load_sweep(args.profile or args.sweep)
        ex = _executor(args)
        try:
            table = run_sweep(sweep, args.out, executor=ex,
                              progress=not args.no_progress)
        finally:
            ex.close()
        s = table.stats
        out.write(
            f"sweep {sweep.name}: {s.total} runs, {s.skipped} already recorded, "
            f"{s.ran} run now ({s.failed} failed), {s.errors} errors, "
            f"{s.redone} redone after a corrupt record; {s.seconds:.1f} s\n"
            f"summary: {Path(args.out) / 'summary.csv'}\n"
        )
        if not args.no_report:
            path = build_report(args.out)
            out.write(f"report: {path}\n")
    except KeyboardInterrupt:
        err.write("sigprop: interrupted; the runs recorded so far are kept, run "
                  "the same command again to resume\n")
        return 130
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    return int(ExitCode.ERROR) if s.errors else int(ExitCode.OK)
