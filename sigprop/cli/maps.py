"""``sigprop maps``: fixed points, slopes, depth scales and phase."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ._common import ExitCode, add_model_options, emit, fmt, model_from_args


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "maps",
        help="q*, c*, chi's, depth scales, phase",
        description=(
            "Fixed points, slopes and depth scales of the mean-field maps. "
            "Without --sigma-w2 the edge of chaos at --sigma-b2 is used."
        ),
    )
    add_model_options(p)
    return p


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    mf = model_from_args(args)
    data = mf.summary()
    data["xi_grad"] = mf.xi_grad
    lines = [f"{key:<14} {fmt(value)}" for key, value in data.items()]
    emit(out, data, args.json, lines)
    return int(ExitCode.OK)
