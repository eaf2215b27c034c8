"""``sigprop phase-diagram``: heat maps of a grid of initializations."""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

from .._errors import InvalidParameterError
from ._common import (
    ExitCode,
    _float,
    activation_from_args,
    add_activation_options,
    emit,
)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "phase-diagram",
        help="phase, chi_1, xi_c and l*/L over a (sigma_w2, sigma_b2) grid",
        description=(
            "Compute the phase diagram of an activation over a grid of "
            "(sigma_w2, sigma_b2) and draw the phase, chi_1, xi_c and l*/L heat "
            "maps with the edge of chaos over them. Nothing is written unless "
            "everything succeeds."
        ),
    )
    add_activation_options(p)
    p.add_argument(
        "--depth", type=int, required=True, help="number of hidden layers L (>= 1)"
    )
    p.add_argument("--out", required=True, metavar="FILE.png", help="figure to write")
    p.add_argument(
        "--data", default=None, metavar="FILE.npz", help="also save the grid data"
    )
    p.add_argument(
        "--grid", type=int, default=64, metavar="N", help="N x N grid (default 64)"
    )
    p.add_argument(
        "--sigma-w2-range",
        type=_float,
        nargs=2,
        default=(0.5, 4.0),
        metavar=("LO", "HI"),
        help="sigma_w2 axis (default 0.5 4)",
    )
    p.add_argument(
        "--sigma-b2-range",
        type=_float,
        nargs=2,
        default=(0.0, 0.3),
        metavar=("LO", "HI"),
        help="sigma_b2 axis (default 0 0.3)",
    )
    p.add_argument(
        "--c0", type=_float, default=0.0, help="input correlation c^0 in [-1, 1]"
    )
    p.add_argument(
        "--no-progress", action="store_true", help="do not report progress on stderr"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    return p


def _check_folder(option: str, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidParameterError(
            f"`{option}` {path!r}: the folder {folder!r} does not exist. Create it "
            "first."
        )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import numpy as np

    from ..phase import phase_diagram

    # every check before any computation, so that a bad option writes nothing
    _check_folder("--out", args.out)
    if args.data is not None:
        _check_folder("--data", args.data)
        if os.path.abspath(args.data) == os.path.abspath(args.out):
            raise InvalidParameterError("`--data` and `--out` must be different files.")
    if args.grid < 2:
        raise InvalidParameterError(
            f"`--grid` must be an integer >= 2; got {args.grid}."
        )
    try:
        from .. import plotting

        plotting._plt()
    except ImportError as exc:
        raise InvalidParameterError(f"`--out` needs matplotlib: {exc}") from exc
    act = activation_from_args(args)
    lo_w, hi_w = args.sigma_w2_range
    lo_b, hi_b = args.sigma_b2_range
    sw = np.linspace(float(lo_w), float(hi_w), args.grid)
    sb = np.linspace(float(lo_b), float(hi_b), args.grid)

    def progress(done: int, total: int) -> None:
        err.write(f"\rphase diagram: {done}/{total} grid points")
        if done == total:
            err.write("\n")
        err.flush()

    pd = phase_diagram(
        act,
        sw,
        sb,
        depth=args.depth,
        c0=args.c0,
        progress=False if args.no_progress else progress,
    )
    plt = plotting._plt()
    fig = plt.figure(figsize=(11.0, 8.5))
    written: list[str] = []
    try:
        plotting.plot_phase_panels(pd, fig=fig)
        if args.data is not None:
            pd.save(args.data)
            written.append(args.data)
        plotting.save_figure(fig, args.out, dpi=110)
        written.append(args.out)
    except BaseException:
        for path in written:  # all or nothing
            os.remove(path)
        raise
    finally:
        plt.close(fig)
    counts = {name: int(np.sum(pd.phase == name)) for name in np.unique(pd.phase)}
    data = {
        "activation": pd.activation,
        "depth": pd.depth,
        "grid": list(pd.shape),
        "figure": args.out,
        "data": args.data,
        "phase_counts": counts,
        "notes": list(pd.notes),
    }
    lines = [
        f"activation     {pd.activation}",
        f"depth L        {pd.depth}",
        f"grid           {pd.shape[0]} sigma_b2 x {pd.shape[1]} sigma_w2",
        "phases         " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())),
        f"figure         {args.out}",
    ]
    if args.data is not None:
        lines.append(f"data           {args.data}")
    lines += [f"note           {n}" for n in pd.notes]
    emit(out, data, args.json, lines)
    return int(ExitCode.OK)
