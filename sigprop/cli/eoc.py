"""``sigprop eoc``: the edge-of-chaos weight variance."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ._common import ExitCode, activation_from_args, add_model_options, emit, fmt


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "eoc",
        help="sigma_w2 on the edge of chaos",
        description="The weight variance sigma_w2 with chi_1 = 1 at --sigma-b2.",
    )
    add_model_options(p, need_w=False)
    return p


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..edge import edge_of_chaos
    from ..meanfield import MeanField

    act = activation_from_args(args)
    sw = edge_of_chaos(act, args.sigma_b2)
    mf = MeanField(act, sw, args.sigma_b2)
    data = {
        "activation": act.name,
        "sigma_b2": args.sigma_b2,
        "sigma_w2": sw,
        "chi_1": mf.chi_1,
    }
    lines = [
        f"activation     {act.name}",
        f"sigma_b2       {fmt(args.sigma_b2)}",
        f"sigma_w2       {fmt(sw)}   (edge of chaos: chi_1 = {mf.chi_1:.15g})",
    ]
    emit(out, data, args.json, lines)
    return int(ExitCode.OK)
