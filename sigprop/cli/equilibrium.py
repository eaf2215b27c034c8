"""``sigprop equilibrium``: the predicted equilibrium layer of a network."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from .._errors import InvalidParameterError
from ._common import ExitCode, add_model_options, emit, fmt, model_from_args


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "equilibrium",
        help="predict the equilibrium layer l*",
        description=(
            "Predict the equilibrium layer l* of a network with L hidden layers "
            "(L + 1 linear layers). Without --sigma-w2 the activation's edge of "
            "chaos at --sigma-b2 is used."
        ),
    )
    add_model_options(p)
    p.add_argument(
        "--depth", type=int, required=True, help="number of hidden layers L (>= 1)"
    )
    p.add_argument(
        "--c0", type=float, default=0.0, help="input correlation c^0 in [-1, 1]"
    )
    p.add_argument(
        "--curves", action="store_true", help="include F(l) and B(l) in --json"
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="draw F(l), B(l) and l* to this file (needs matplotlib)",
    )
    return p


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.plot:
        # checked before computing, so that a bad path writes nothing
        import os

        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):
            raise InvalidParameterError(
                f"`--plot` {args.plot!r}: the folder {folder!r} does not exist. "
                "Create it first."
            )
    mf = model_from_args(args)
    eq = mf.equilibrium(args.depth, c0=args.c0)
    data = eq.to_dict()
    if not args.curves:
        data.pop("forward")
        data.pop("backward")
    data = {
        "activation": mf.activation.name,
        "sigma_w2": mf.sigma_w2,
        "sigma_b2": mf.sigma_b2,
        "phase": mf.phase,
        "c0": args.c0,
        **data,
    }
    where = {
        None: "interior crossing of F and B",
        "below": "boundary: F(1) <= B(1), the balance lies at or below layer 1",
        "above": "boundary: F(l) > B(l) up to l = L, the balance lies at the last",
    }[eq.boundary]
    lines = [
        f"activation     {mf.activation.name}",
        f"sigma_w2       {fmt(mf.sigma_w2)}",
        f"sigma_b2       {fmt(mf.sigma_b2)}",
        f"phase          {mf.phase}",
        f"depth L        {eq.depth} hidden layers ({eq.depth + 1} linear layers)",
        f"c0             {fmt(args.c0)}",
        f"l*             {eq.layer:.4f}  ({where})",
        f"l*/L           {eq.fraction:.4f}",
        "crossings      "
        + (", ".join(f"{c.layer:.3f} ({c.direction})" for c in eq.crossings) or "none"),
    ]
    if args.plot:
        from .. import plotting

        plotting.save_information_curves(eq, args.plot)
        lines.append(f"figure         {args.plot}")
        data["figure"] = args.plot
    emit(out, data, args.json, lines)
    return int(ExitCode.OK)
