"""What every subcommand shares: exit codes, errors, argument types, output."""

from __future__ import annotations

import argparse
import enum
import json
import math
from typing import Any, TextIO

from .._errors import InvalidParameterError, SigpropError

__all__ = ["ExitCode", "fail", "add_model_options", "model_from_args", "emit"]


class ExitCode(enum.IntEnum):
    """Exit codes of the ``sigprop`` command."""

    OK = 0
    ERROR = 1  # a failure that is no fault of the input (I/O, a bug)
    USAGE = 2  # bad or missing arguments: the message says which
    NUMERICAL = 3  # a named numerical failure (no fixed point, no convergence)


def fail(exc: BaseException, err: TextIO) -> int:
    """Write one line for an exception and return its exit code."""
    from .._errors import (
        ConvergenceError,
        EquilibriumError,
        MomentOverflowError,
        NoEdgeOfChaosError,
        NoFixedPointError,
    )

    numerical = (
        NoFixedPointError,
        NoEdgeOfChaosError,
        EquilibriumError,
        MomentOverflowError,
        ConvergenceError,
    )
    name = type(exc).__name__
    err.write(f"sigprop: error: {exc} [{name}]\n")
    if isinstance(exc, numerical):
        return int(ExitCode.NUMERICAL)
    if isinstance(exc, (SigpropError, ValueError, TypeError)):
        return int(ExitCode.USAGE)
    return int(ExitCode.ERROR)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_activation_options(p: argparse.ArgumentParser) -> None:
    """ACTIVATION and --param."""
    p.add_argument(
        "activation",
        metavar="ACTIVATION",
        help="registered name (relu, tanh, ...) or an expression in x",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="activation parameter, e.g. --param alpha=0.1 for leaky_relu",
    )


def add_model_options(p: argparse.ArgumentParser, *, need_w: bool = True) -> None:
    """ACTIVATION, --param, --sigma-w2, --sigma-b2, --json."""
    add_activation_options(p)
    if need_w:
        p.add_argument(
            "--sigma-w2",
            type=_float,
            default=None,
            help="weight variance (default: the edge of chaos for --sigma-b2)",
        )
    p.add_argument("--sigma-b2", type=_float, default=0.0, help="bias variance")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def activation_from_args(args: argparse.Namespace) -> Any:
    from ..activations import activation

    params: dict[str, float] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidParameterError(
                f"`--param` must look like NAME=VALUE; got {item!r}."
            )
        params[name.strip()] = _float(value)
    return activation(args.activation, **params)  # type: ignore[arg-type]


def model_from_args(args: argparse.Namespace) -> Any:
    """The MeanField of the parsed options (EOC when --sigma-w2 is absent)."""
    from ..edge import edge_of_chaos
    from ..meanfield import MeanField

    act = activation_from_args(args)
    sw = args.sigma_w2
    if sw is None:
        sw = edge_of_chaos(act, args.sigma_b2)
    return MeanField(act, sw, args.sigma_b2)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def emit(out: TextIO, data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Write ``data`` as JSON or ``lines`` as text."""
    if as_json:
        out.write(json.dumps(_jsonable(data), indent=2) + "\n")
    else:
        out.write("\n".join(lines) + "\n")


def fmt(value: Any) -> str:
    """A number for humans: 12 significant digits, inf as such."""
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:.12g}"
    return str(value)
