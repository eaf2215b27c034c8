"""``sigprop asymptotics``: the large-depth law of the equilibrium layer."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ._common import ExitCode, activation_from_args, add_model_options, emit


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "asymptotics",
        help="the law l* ~ prefactor L^exponent (exact where possible)",
        description=(
            "The edge-of-chaos law 1 - f(1 - eps) = eps - a eps^p and "
            "l* ~ (a (p-1))^(-1/(p+1)) L^(p/(p+1)), exact where the correlation "
            "map has a closed form; off the edge (with --sigma-w2), the regime."
        ),
    )
    add_model_options(p, need_w=True)
    p.add_argument(
        "--depth",
        type=int,
        action="append",
        default=[],
        metavar="L",
        help="also print the predicted l* at this depth (repeatable)",
    )
    return p


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..asymptotics import asymptotics

    act = activation_from_args(args)
    law = asymptotics(act, args.sigma_b2, sigma_w2=args.sigma_w2)
    data = law.to_dict()
    lines = law.lines()
    predictions = {}
    for depth in args.depth:
        if law.has_power_law or law.regime != "edge":
            predictions[str(depth)] = law(depth)
            lines.append(f"  predicted l*(L={depth}) = {predictions[str(depth)]:.6g}")
    if args.depth:
        data["predicted"] = predictions
    emit(out, data, args.json, lines)
    return int(ExitCode.OK)
