"""The configuration of one validation run: a typed, frozen dataclass.

It serializes to a JSON- and TOML-friendly dict (``None`` values are left
out, since TOML has no null, and every field left out takes its default),
rejects unknown keys, and hashes to a stable key for the run store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sigprop._errors import InvalidParameterError
from sigprop._validate import check_depth, check_variance

from ._data import DATASETS
from ._device import DTYPES
from ._kernels import KINDS

__all__ = ["RunConfig", "OPTIMIZERS", "LOSSES"]

#: Optimizers a run can use.
OPTIMIZERS = ("sgd", "adam")
#: Training losses: cross-entropy on logits, or squared error on one-hot targets.
LOSSES = ("cross_entropy", "mse")


def _freeze_params(name: str, value: Any) -> tuple[tuple[str, float], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    for item in items:
        try:
            k, v = item
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"`{name}` must be a mapping of names to numbers; got {value!r}."
            ) from exc
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(
            v, numbers.Real
        ):
            raise InvalidParameterError(
                f"`{name}` must map names to numbers; got {k!r}: {v!r}."
            )
        out.append((k, float(v) if not isinstance(v, int) else int(v)))
    return tuple(sorted(out))


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one validation run.

    Parameters
    ----------
    dataset : str, default "mnist5k"
        One of ``mnist5k``, ``digits``, ``gaussian_mixture``, ``teacher``,
        ``mnist``, ``fashion_mnist``, ``cifar10`` (the last three on disk).
    data_root : str, optional
        Folder of the on-disk datasets (torchvision layout).
    dataset_params : mapping, optional
        Settings of a synthetic task.
    n_train, n_test : int, optional
        Class-balanced subsets (default: all).
    test_fraction : float, default 0.2
        Held-out fraction where a dataset has no official split.
    probe_size : int, default 500
        Examples of the probe set on which every kernel is measured,
        balanced over classes.
    probe_split : {"test", "train"}, default "test"
        Where the probe set is drawn from; ``"test"`` keeps it disjoint from
        the training set, as VALIDATION.md asks.
    activation : str, default "relu"
    activation_params : mapping, optional
        E.g. ``{"alpha": 0.1}`` for ``leaky_relu``.
    sigma_w2, sigma_b2 : float, default 2.0, 0.0
        Weight and bias variances (squares).
    depth : int, default 20
        ``L`` hidden layers (``L + 1`` linear layers).
    width : int, default 256
    optimizer : {"sgd", "adam"}, default "sgd"
    lr : float, default 4e-3
    momentum : float, default 0.9
        SGD momentum (ignored by Adam).
    weight_decay : float, default 0.0
    batch_size : int, default 128
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
    max_epochs : int, default 300
        Epoch cap.
    measure_every : int, default 0
        Measure the alignment every this many epochs (0: never on a schedule).
    measure_losses : tuple of float, default (0.1,)
        Measure when the smoothed training loss first falls below each.
    stop_loss : float, default 0.02
        Stop (and measure) when the smoothed training loss falls below it.
    ema : float, default 0.9
        Factor of the exponential moving average of the per-step loss.
    divergence_loss : float, default 1e4
        A smoothed loss above this (or a non-finite loss) ends the run as
        diverged.
    kernel : {"full", "traced"}, default "full"
    include_bias : bool, default True
    centered : bool, default True
    peak_margin : float, default 0.02
        The robust peak is the first layer within this much alignment of the
        maximum.
    seed : int, default 0
        Seeds the data split, the probe, the initialization and the batches.
    device : str, default "auto"
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, optional
        CPU threads torch may use during the run (restored afterwards);
        default: leave torch's setting. One thread is much faster for small
        networks on a machine whose cores are busy with other work.
    """

    dataset: str = "mnist5k"
    data_root: str | None = None
    dataset_params: tuple[tuple[str, float], ...] = ()
    n_train: int | None = None
    n_test: int | None = None
    test_fraction: float = 0.2
    probe_size: int = 500
    probe_split: str = "test"
    activation: str = "relu"
    activation_params: tuple[tuple[str, float], ...] = ()
    sigma_w2: float = 2.0
    sigma_b2: float = 0.0
    depth: int = 20
    width: int = 256
    optimizer: str = "sgd"
    lr: float = 4e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 128
    loss: str = "cross_entropy"
    max_epochs: int = 300
    measure_every: int = 0
    measure_losses: tuple[float, ...] = (0.1,)
    stop_loss: float = 0.02
    ema: float = 0.9
    divergence_loss: float = 1e4
    kernel: str = "full"
    include_bias: bool = True
    centered: bool = True
    peak_margin: float = 0.02
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "dataset_params",
             _freeze_params("dataset_params", self.dataset_params))
        set_(self, "activation_params",
             _freeze_params("activation_params", self.activation_params))
        if isinstance(self.measure_losses, (int, float)):
            set_(self, "measure_losses", (self.measure_losses,))
        set_(self, "measure_losses", tuple(sorted(
            (float(v) for v in self.measure_losses), reverse=True)))
        self._validate()
        # Store numbers in one type, so that 2 and 2.0 hash alike.
        for name in _FLOAT_FIELDS:
            set_(self, name, float(getattr(self, name)))

    # -- validation ---------------------------------------------------------

    def _validate(self) -> None:
        _choice("dataset", self.dataset, tuple(DATASETS))
        _choice("probe_split", self.probe_split, ("test", "train"))
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("loss", self.loss, LOSSES)
        _choice("kernel", self.kernel, KINDS)
        _choice("dtype", self.dtype, tuple(DTYPES))
        if not isinstance(self.activation, str) or not self.activation:
            raise InvalidParameterError(
                f"`activation` must be a non-empty activation name or expression; "
                f"got {self.activation!r}."
            )
        if DATASETS[self.dataset] and not self.data_root:
            raise InvalidParameterError(
                f"`data_root` is required for dataset {self.dataset!r} (a folder "
                "in torchvision's layout); got None."
            )
        check_variance("sigma_w2", self.sigma_w2)
        check_variance("sigma_b2", self.sigma_b2)
        check_depth(self.depth)
        for name in ("width", "batch_size", "max_epochs", "probe_size"):
            _int_at_least(name, getattr(self, name), 1)
        _int_at_least("measure_every", self.measure_every, 0)
        _int_at_least("seed", self.seed, 0)
        if self.num_threads is not None:
            _int_at_least("num_threads", self.num_threads, 1)
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                _int_at_least(name, getattr(self, name), 2)
        _open_interval("test_fraction", self.test_fraction, 0.0, 1.0)
        _open_interval("ema", self.ema, 0.0, 1.0, closed_low=True)
        _positive("lr", self.lr)
        _positive("stop_loss", self.stop_loss, allow_zero=True)
        _positive("divergence_loss", self.divergence_loss)
        _positive("peak_margin", self.peak_margin, allow_zero=True)
        _open_interval("momentum", self.momentum, 0.0, 1.0, closed_low=True)
        _positive("weight_decay", self.weight_decay, allow_zero=True)
        for v in self.measure_losses:
            _positive("measure_losses", v)
        for name in ("include_bias", "centered"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameterError(
                    f"`{name}` must be true or false; got {getattr(self, name)!r}."
                )
        if not isinstance(self.device, str):
            raise InvalidParameterError(
                f"`device` must be a string ('auto', 'cpu', 'cuda'); got "
                f"{self.device!r}."
            )

    # -- serialization --------------------------------------------------------

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The configuration keys, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)

    def to_dict(self) -> dict[str, Any]:
        """JSON- and TOML-friendly dict; ``None`` values are omitted."""
        out: dict[str, Any] = {}
        for name in self.field_names():
            v = getattr(self, name)
            if v is None:
                continue
            if name in ("dataset_params", "activation_params"):
                v = dict(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build from a dict such as :meth:`to_dict` gives; unknown keys fail."""
        if not isinstance(data, Mapping):
            raise TypeError(
                f"a run configuration must be a mapping; got {type(data).__name__}."
            )
        known = set(cls.field_names())
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameterError(
                f"unknown run configuration key(s) {unknown}; the known keys are "
                f"{sorted(known)}."
            )
        kw = dict(data)
        if "measure_losses" in kw and isinstance(kw["measure_losses"], list):
            kw["measure_losses"] = tuple(kw["measure_losses"])
        return cls(**kw)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_toml(self) -> str:
        """TOML text that ``tomllib.loads`` reads back into :meth:`to_dict`."""
        lines = []
        for k, v in self.to_dict().items():
            if isinstance(v, dict):
                inner = ", ".join(f"{ik} = {_toml_value(iv)}" for ik, iv in v.items())
                lines.append(f"{k} = {{{inner}}}")
            else:
                lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"

    def config_hash(self) -> str:
        """A stable 16-hex-digit key of the full configuration."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return RunConfig.from_dict({**self.to_dict(), **changes})


_FLOAT_FIELDS = (
    "sigma_w2", "sigma_b2", "test_fraction", "lr", "momentum", "weight_decay",
    "stop_loss", "ema", "divergence_loss", "peak_margin",
)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, (int, str)):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidParameterError(
            f"`{name}` must be one of {list(allowed)}; got {value!r}."
        )


def _int_at_least(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidParameterError(
            f"`{name}` must be an integer >= {low}; got {value!r}."
        )


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        math.isfinite(float(value))
    ):
        raise InvalidParameterError(
            f"`{name}` must be a finite number; got {value!r}."
        )
    return float(value)


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> None:
    v = _real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        rng = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"`{name}` must be {rng}; got {value!r}.")


def _open_interval(
    name: str, value: Any, lo: float, hi: float, *, closed_low: bool = False
) -> None:
    v = _real(name, value)
    ok = (lo <= v if closed_low else lo < v) and v < hi
    if not ok:
        left = "[" if closed_low else "("
        raise InvalidParameterError(
            f"`{name}` must be in {left}{lo:g}, {hi:g}); got {value!r}."
        )
