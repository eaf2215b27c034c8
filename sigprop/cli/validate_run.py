"""``sigprop validate-run``: run one validation experiment and store its record.

The options mirror :class:`sigprop.validation.RunConfig` field by field
(``--sigma-w2`` for ``sigma_w2``); ``--config FILE`` (TOML or JSON) gives a
base configuration that the options then override. The record is written
atomically to ``OUT/<config hash>.json``. The lead wires :func:`add_parser`
and :func:`run` into the ``sigprop`` command; torch is imported only when the
subcommand runs.
"""

from __future__ import annotations

import argparse
import enum
import json
import logging
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ExitCode", "add_parser", "run", "NAME"]

NAME = "validate-run"


class ExitCode(enum.IntEnum):
    """Exit status of ``sigprop validate-run``."""

    OK = 0
    ERROR = 1  # bad configuration or input, missing data
    USAGE = 2  # argparse's own code for a bad command line
    RUN_FAILED = 3  # the run itself failed (diverged, NaN, out of memory)


# -- options (declared apart from the logic) ----------------------------------

# Field name -> (type, metavar, help). Booleans get --x/--no-x; mappings are
# given as repeated KEY=VALUE.
_OPTIONS: dict[str, tuple[Any, str | None, str]] = {
    "dataset": (
        str,
        "NAME",
        "mnist5k, digits, gaussian_mixture, teacher, mnist, fashion_mnist, cifar10",
    ),
    "data_root": (str, "DIR", "folder of on-disk datasets (torchvision layout)"),
    "dataset_params": ("mapping", "KEY=VALUE", "synthetic-task setting (repeat)"),
    "n_train": (int, "N", "class-balanced training subset"),
    "n_test": (int, "N", "class-balanced test subset"),
    "test_fraction": (float, "F", "held-out fraction where no split exists"),
    "probe_size": (int, "N", "probe examples for the kernels"),
    "probe_split": (str, "SPLIT", "test or train"),
    "activation": (str, "NAME", "activation name or expression in x"),
    "activation_params": ("mapping", "KEY=VALUE", "activation parameter (repeat)"),
    "sigma_w2": (float, "V", "weight variance sigma_w^2"),
    "sigma_b2": (float, "V", "bias variance sigma_b^2"),
    "depth": (int, "L", "number of hidden layers"),
    "width": (int, "N", "hidden width"),
    "optimizer": (str, "NAME", "sgd or adam"),
    "lr": (float, "LR", "learning rate"),
    "momentum": (float, "M", "SGD momentum"),
    "weight_decay": (float, "W", "weight decay"),
    "batch_size": (int, "B", "minibatch size"),
    "loss": (str, "NAME", "cross_entropy or mse"),
    "max_epochs": (int, "E", "epoch cap"),
    "measure_every": (int, "K", "measure every K epochs (0: never)"),
    "measure_losses": (
        "floats",
        "LOSS",
        "measure when the smoothed loss first falls below each",
    ),
    "stop_loss": (float, "LOSS", "stop when the smoothed loss falls below this"),
    "ema": (float, "F", "loss smoothing factor"),
    "divergence_loss": (float, "LOSS", "smoothed loss that counts as divergence"),
    "kernel": (str, "KIND", "full or traced"),
    "include_bias": (bool, None, "bias in the layer kernels"),
    "centered": (bool, None, "centered alignment"),
    "peak_margin": (float, "A", "margin of the robust peak"),
    "seed": (int, "S", "seed"),
    "device": (str, "DEV", "auto, cpu, cuda, cuda:N"),
    "dtype": (str, "DTYPE", "float32 or float64"),
    "num_threads": (int, "T", "CPU threads for torch during the run"),
}


def _mapping_item(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        number: float = int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f"the value of {key!r} must be a number; got {value!r}"
            ) from exc
    return key, number


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``validate-run`` on an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="train one network and measure its layer alignment",
        description=(
            "Train one MLP with mean-field initialization, measure the alignment "
            "of every linear layer's tangent kernel with the labels through "
            "training, and store the record with the predicted equilibrium "
            "layer. Layers are numbered as in THEORY.md (1 = input layer, L+1 = "
            "readout)."
        ),
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder for the record (<config hash>.json)",
    )
    p.add_argument(
        "--config", type=Path, metavar="FILE", help="base configuration, TOML or JSON"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument(
        "--raise-on-failure",
        action="store_true",
        help="treat a failed run as an error (exit code 3 either way)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    group = p.add_argument_group("run configuration (see RunConfig)")
    for name, (kind, metavar, help_) in _OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            group.add_argument(
                flag,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_,
            )
        elif kind == "mapping":
            singular = flag[:-1] if flag.endswith("s") else flag
            group.add_argument(
                singular,
                dest=name,
                action="append",
                type=_mapping_item,
                metavar=metavar,
                default=argparse.SUPPRESS,
                help=help_,
            )
        elif kind == "floats":
            group.add_argument(
                flag,
                dest=name,
                nargs="*",
                type=float,
                metavar=metavar,
                default=argparse.SUPPRESS,
                help=help_,
            )
        else:
            group.add_argument(
                flag,
                dest=name,
                type=kind,
                metavar=metavar,
                default=argparse.SUPPRESS,
                help=help_,
            )
    return p


def _read_config_file(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import tomllib

        data = tomllib.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a table of configuration keys")
    return data


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Execute ``validate-run`` for parsed ``args``; return the exit code."""
    from sigprop._errors import SigpropError

    try:
        from sigprop.validation import RunConfig, run_experiment, save_record
    except ImportError as exc:
        stderr.write(
            f"error: sigprop validate-run needs the validation extra "
            f"(pip install 'sigprop[validation]'): {exc}\n"
        )
        return ExitCode.ERROR

    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, stream=stderr)
    values: dict[str, Any] = {}
    try:
        if args.config is not None:
            values.update(_read_config_file(args.config))
        for name, (kind, _, _) in _OPTIONS.items():
            if name in vars(args):
                v = getattr(args, name)
                values[name] = dict(v) if kind == "mapping" else v
        config = RunConfig.from_dict(values)
        record = run_experiment(config)
        path = save_record(record, args.out)
    except (SigpropError, ValueError, TypeError, OSError) as exc:
        stderr.write(f"error: {exc}\n")
        return ExitCode.ERROR

    summary = {
        "record": str(path),
        "status": record.status,
        "failure": record.failure,
        "stopped_by": record.stopped_by,
        "measured_peak": record.peak,
        "predicted_l_star": {
            k: (record.prediction.get(k) or {}).get("layer")
            for k in ("dataset", "scalar")
        },
        "layer_numbering": record.layer_numbering,
    }
    if args.json:
        stdout.write(json.dumps(summary, indent=1) + "\n")
    else:
        peak = record.peak["argmax"] if record.peak else None
        stdout.write(
            f"{record.status}: measured peak layer {peak}, predicted l* "
            f"{summary['predicted_l_star']['dataset']} (dataset) / "
            f"{summary['predicted_l_star']['scalar']} (c0); record {path}\n"
        )
    if not record.ok:
        stderr.write(f"run failed: {record.failure and record.failure['reason']}\n")
        return ExitCode.RUN_FAILED
    return ExitCode.OK
