"""One validation run: train an :class:`MLP`, measure layer alignment, predict.

The protocol is VALIDATION.md's. Alignment of every linear layer's tangent
kernel with the labels of a fixed probe set is measured at initialization,
every ``measure_every`` epochs, when the smoothed training loss first falls
under each of ``measure_losses``, and when it falls under ``stop_loss``
(where training stops) or the epoch cap is reached. The record also holds the
core's prediction of the equilibrium layer ``l*`` for the same network and
probe inputs.

Layer numbering is THEORY.md's: alignment index ``l`` (1-based) is linear
layer ``l``, which produces ``y^l`` (1 = input layer, ``L + 1`` = readout),
so ``argmax_l A(l)`` is compared with ``l*`` directly.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import sigprop as sp
from sigprop._errors import SigpropError

from ._alignment import AlignmentError, layer_alignments
from ._config import RunConfig
from ._data import Dataset, balanced_indices, load_dataset
from ._device import resolve_device, resolve_dtype
from ._io import atomic_write_text
from ._models import MLP

__all__ = [
    "Checkpoint",
    "RunRecord",
    "RunFailedError",
    "LAYER_NUMBERING",
    "measured_peak",
    "mean_pairwise_correlation",
    "predict_equilibrium",
    "run_experiment",
    "save_record",
    "load_record",
]

logger = logging.getLogger(__name__)

#: The sentence every record and figure carries about layer indices.
LAYER_NUMBERING = (
    "alignment[l-1] is linear layer l of THEORY.md (weights and bias producing "
    "y^l; 1 = input layer, L+1 = readout), compared with l* directly"
)


class RunFailedError(SigpropError, RuntimeError):
    """A run failed and the caller asked for an exception (``raise_on_failure``).

    Attributes
    ----------
    record : RunRecord
        The record of the failed run, as it would have been returned.
    """

    def __init__(self, message: str, record: RunRecord) -> None:
        super().__init__(message)
        self.record = record


@dataclass(frozen=True)
class Checkpoint:
    """One measurement of the alignment curve during training.

    Attributes
    ----------
    reason : str
        ``"init"``, ``"epoch"``, ``"loss<0.1"`` (one per threshold),
        ``"stop"`` (smoothed loss under ``stop_loss``) or ``"max_epochs"``.
    epoch : float
        Epochs completed, fractional inside an epoch.
    step : int
        Optimizer steps taken.
    loss_ema : float or None
        Smoothed training loss (None at initialization).
    train_loss, train_accuracy, test_loss, test_accuracy : float
        On the whole training and test sets.
    alignment : tuple of float or None
        ``A(l)`` for ``l = 1..L+1``; None when it could not be measured
        (``error`` says why).
    peak : dict or None
        :func:`measured_peak` of ``alignment``.
    seconds : float
        Time spent on this measurement.
    error : str or None
    """

    reason: str
    epoch: float
    step: int
    loss_ema: float | None
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    alignment: tuple[float, ...] | None
    peak: dict[str, Any] | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """Everything one run leaves behind (JSON-friendly through ``to_dict``).

    Attributes
    ----------
    config : dict
        ``RunConfig.to_dict()``.
    config_hash : str
    status : {"ok", "failed"}
    failure : dict or None
        ``{"kind", "reason", "epoch", "step"}``; kinds ``"diverged"``,
        ``"nan_loss"``, ``"out_of_memory"``, ``"error"``.
    stopped_by : str
        ``"stop_loss"``, ``"max_epochs"`` or ``"failure"``.
    checkpoints : tuple of Checkpoint
    epoch_losses : tuple of float
        Mean minibatch loss of every completed epoch.
    prediction : dict
        :func:`predict_equilibrium` for the network and probe inputs.
    peak : dict or None
        Measured peak of the last checkpoint with an alignment curve.
    preprocessing, probe : dict
    timings : dict
        Seconds: ``data``, ``prediction``, ``training``, ``measurement``,
        ``total``.
    versions : dict
    device, dtype : str
    threads : int
        CPU threads torch used.
    layer_numbering : str
    """

    config: dict[str, Any]
    config_hash: str
    status: str
    failure: dict[str, Any] | None
    stopped_by: str
    checkpoints: tuple[Checkpoint, ...]
    epoch_losses: tuple[float, ...]
    prediction: dict[str, Any]
    peak: dict[str, Any] | None
    preprocessing: dict[str, Any]
    probe: dict[str, Any]
    timings: dict[str, float]
    versions: dict[str, str]
    device: str
    dtype: str
    threads: int = 1
    layer_numbering: str = LAYER_NUMBERING
    format_version: int = field(default=1)

    @property
    def ok(self) -> bool:
        """True when the run did not fail."""
        return self.status == "ok"

    def alignment_curves(self) -> np.ndarray:
        """``A(l, t)`` as an array ``(checkpoints, L + 1)``; NaN rows where a
        checkpoint has no curve."""
        L1 = int(self.config.get("depth", 20)) + 1
        rows = [
            np.asarray(c.alignment) if c.alignment is not None else np.full(L1, np.nan)
            for c in self.checkpoints
        ]
        return np.vstack(rows) if rows else np.empty((0, L1))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict; non-finite floats become None."""
        return _finite(asdict(self))

    def to_json(self, **kw: Any) -> str:
        """JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """Inverse of :meth:`to_dict` (for stored records)."""
        d = dict(data)
        d["checkpoints"] = tuple(
            Checkpoint(**{
                **c,
                "alignment": None if c["alignment"] is None else tuple(
                    math.nan if v is None else v for v in c["alignment"]
                ),
            })
            for c in d["checkpoints"]
        )
        d["epoch_losses"] = tuple(
            math.nan if v is None else v for v in d["epoch_losses"]
        )
        return cls(**d)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        return _finite(obj.item())
    return obj


def save_record(record: RunRecord, directory: str | Path) -> Path:
    """Write ``<config_hash>.json`` in ``directory`` atomically; return its path.

    The text goes to a temporary file in the same folder first and is then
    renamed over the target, so a reader never sees half a record.
    """
    target = Path(directory) / f"{record.config_hash}.json"
    return atomic_write_text(target, record.to_json(indent=1))


def load_record(path: str | Path) -> RunRecord:
    """Read a record written by :func:`save_record`."""
    with open(path) as fh:
        return RunRecord.from_dict(json.load(fh))


# -- peak and prediction ------------------------------------------------------


def measured_peak(curve: Sequence[float], margin: float = 0.02) -> dict[str, Any]:
    """Measured peak layer of an alignment curve ``A(l)``, ``l = 1..L+1``.

    Returns
    -------
    dict
        ``argmax``: the layer of the maximum (the headline number);
        ``first_within_margin``: the first layer whose alignment is within
        ``margin`` of the maximum (the robust companion, for the broad
        plateaus trained curves often have); ``smoothed``: the argmax of the
        3-layer moving average; ``max_alignment``; ``margin``.
    """
    a = np.asarray(curve, dtype=float)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise AlignmentError(
            "an alignment curve must be a non-empty 1-d array of finite values."
        )
    top = int(np.argmax(a))
    within = int(np.flatnonzero(a >= a[top] - margin)[0])
    kernel = np.ones(3)
    sm = np.convolve(a, kernel, "same") / np.convolve(np.ones_like(a), kernel, "same")
    return {
        "argmax": top + 1,
        "first_within_margin": within + 1,
        "smoothed": int(np.argmax(sm)) + 1,
        "max_alignment": float(a[top]),
        "margin": float(margin),
    }


def mean_pairwise_correlation(X: np.ndarray) -> float:
    """``c^0``: mean of ``x_a . x_b / (|x_a| |x_b|)`` over distinct pairs."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n < 2:
        raise SigpropError("`X` needs at least two rows for a pairwise correlation.")
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise SigpropError("`X` has a zero row: its correlations are undefined.")
    U = X / norms[:, None]
    s = U.sum(axis=0)
    return float((s @ s - n) / (n * (n - 1)))


def _equilibrium_dict(eq: Any) -> dict[str, Any]:
    """JSON-friendly view of a core ``Equilibrium``."""

    def arr(name: str) -> list[float] | None:
        v = getattr(eq, name, None)
        return None if v is None else [float(t) for t in np.ravel(v)]

    crossings = []
    for cr in getattr(eq, "crossings", ()) or ():
        if hasattr(cr, "layer"):
            crossings.append({"layer": float(cr.layer),
                              "direction": getattr(cr, "direction", None)})
        else:
            crossings.append({"layer": float(cr), "direction": None})
    layer = getattr(eq, "layer", None)
    c_star = getattr(eq, "c_star", None)
    return {
        "layer": None if layer is None else float(layer),
        "boundary": getattr(eq, "boundary", None),
        "crossings": crossings,
        "c_star": None if c_star is None else float(c_star),
        "forward": arr("forward"),
        "backward": arr("backward"),
        "error": None,
    }


def predict_equilibrium(
    activation: Any,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    X: np.ndarray,
) -> dict[str, Any]:
    """The core's equilibrium layer for a network and its probe inputs.

    Two predictions (THEORY.md section 5, VALIDATION.md "The prediction"):
    ``dataset`` from the probe inputs themselves
    (``MeanField.equilibrium_for_data``) and ``scalar`` from ``c0``, the mean
    pairwise correlation of the probe inputs (``MeanField.equilibrium``).
    A core error (for instance ``EquilibriumError`` when ``|c0 - c*|`` is too
    small) is recorded as that prediction's ``error``, never raised.
    """
    out: dict[str, Any] = {"c0": None, "dataset": None, "scalar": None}
    t0 = time.perf_counter()
    try:
        out["c0"] = mean_pairwise_correlation(X)
    except SigpropError as exc:
        out["c0_error"] = f"{type(exc).__name__}: {exc}"
    mean_field = getattr(sp, "MeanField", None)
    if mean_field is None:
        msg = "the installed sigprop core has no MeanField"
        out["dataset"] = {"error": msg}
        out["scalar"] = {"error": msg}
        return out
    try:
        mf = mean_field(activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    except SigpropError as exc:
        msg = f"{type(exc).__name__}: {exc}"
        out["dataset"] = {"error": msg}
        out["scalar"] = {"error": msg}
        return out
    try:
        out["dataset"] = _equilibrium_dict(mf.equilibrium_for_data(X, depth))
    except SigpropError as exc:
        out["dataset"] = {"error": f"{type(exc).__name__}: {exc}"}
    if out["c0"] is not None:
        try:
            out["scalar"] = _equilibrium_dict(mf.equilibrium(depth, c0=out["c0"]))
        except SigpropError as exc:
            out["scalar"] = {"error": f"{type(exc).__name__}: {exc}"}
    out["seconds"] = time.perf_counter() - t0
    return out


def _versions() -> dict[str, str]:
    out = {
        "sigprop": sp.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for mod in ("mlxtend", "sklearn", "scipy", "sympy"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:  # optional for some datasets
            continue
    return out


# -- training ----------------------------------------------------------------


class _Stop(Exception):
    """Internal: end the training loop with a reason."""

    def __init__(self, how: str, failure: dict[str, Any] | None = None) -> None:
        super().__init__(how)
        self.how = how
        self.failure = failure


def _loss_fn(kind: str, num_classes: int) -> Any:
    if kind == "cross_entropy":
        return torch.nn.functional.cross_entropy

    def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # Half the squared error to the one-hot target, summed over classes.
        target = torch.nn.functional.one_hot(y, num_classes).to(out.dtype)
        return 0.5 * ((out - target) ** 2).sum(dim=1).mean()

    return mse


@torch.no_grad()
def _evaluate(
    net: MLP, x: torch.Tensor, y: torch.Tensor, loss_fn: Any, chunk: int = 4096
) -> tuple[float, float]:
    if x.shape[0] == 0:
        return math.nan, math.nan
    total, correct = 0.0, 0
    for i in range(0, x.shape[0], chunk):
        out = net(x[i : i + chunk])
        total += float(loss_fn(out, y[i : i + chunk])) * out.shape[0]
        correct += int((out.argmax(dim=1) == y[i : i + chunk]).sum())
    return total / x.shape[0], correct / x.shape[0]


def _build_optimizer(cfg: RunConfig, net: MLP) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            net.parameters(), lr=cfg.lr, momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
        )
    return torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def _probe(cfg: RunConfig, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([cfg.seed, 1])
    x, y = (
        (data.x_test, data.y_test) if cfg.probe_split == "test"
        else (data.x_train, data.y_train)
    )
    idx = balanced_indices(y, cfg.probe_size, rng)
    return x[idx], y[idx]


def run_experiment(config: RunConfig, *, raise_on_failure: bool = False) -> RunRecord:
    """Train one network and measure its layer alignment through training.

    Parameters
    ----------
    config : RunConfig
    raise_on_failure : bool, default False
        Raise :class:`RunFailedError` (carrying the record) when the run
        fails, instead of returning the failed record.

    Returns
    -------
    RunRecord
        ``status="failed"`` with a ``failure`` reason when training diverged,
        produced a NaN loss or ran out of memory; such a run is a recorded
        result, not an exception.

    Notes
    -----
    Deterministic on the CPU for a given ``config`` (seeded data split,
    probe, initialization and batch order; no global RNG is touched).
    Invalid configurations and missing data raise before any training.
    """
    if not isinstance(config, RunConfig):
        raise TypeError(
            f"`config` must be a RunConfig; got {type(config).__name__}."
        )
    threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        record = _run(config)
    finally:
        torch.set_num_threads(threads)
    if record.failure is not None and raise_on_failure:
        raise RunFailedError(f"run failed: {record.failure['reason']}", record)
    return record


def _run(config: RunConfig) -> RunRecord:
    cfg = config
    t_start = time.perf_counter()
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype)
    params: dict[str, Any] = dict(cfg.activation_params)
    act = sp.activation(cfg.activation, **params)

    # Data, probe set and the core's prediction.
    data = load_dataset(
        cfg.dataset, root=cfg.data_root, n_train=cfg.n_train, n_test=cfg.n_test,
        test_fraction=cfg.test_fraction, seed=cfg.seed,
        params=dict(cfg.dataset_params),
    )
    x_probe_np, y_probe_np = _probe(cfg, data)
    t_data = time.perf_counter() - t_start
    t0 = time.perf_counter()
    prediction = predict_equilibrium(
        act, cfg.sigma_w2, cfg.sigma_b2, cfg.depth, x_probe_np
    )
    t_pred = time.perf_counter() - t0

    def tensor(a: np.ndarray, integer: bool = False) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.int64 if integer else dtype,
                               device=device)

    x_tr, y_tr = tensor(data.x_train), tensor(data.y_train, True)
    x_te, y_te = tensor(data.x_test), tensor(data.y_test, True)
    x_probe = tensor(x_probe_np)
    C = data.num_classes
    net = MLP(
        act, cfg.depth, cfg.width, data.input_dim, C, cfg.sigma_w2, cfg.sigma_b2,
        device=device, dtype=dtype, seed=cfg.seed,
    )
    opt = _build_optimizer(cfg, net)
    loss_fn = _loss_fn(cfg.loss, C)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)

    checkpoints: list[Checkpoint] = []
    epoch_losses: list[float] = []
    state: dict[str, Any] = {"step": 0, "epoch": 0.0, "ema": None, "measure_s": 0.0}

    def measure(reason: str) -> None:
        tm = time.perf_counter()
        net.eval()
        tr_loss, tr_acc = _evaluate(net, x_tr, y_tr, loss_fn)
        te_loss, te_acc = _evaluate(net, x_te, y_te, loss_fn)
        curve: tuple[float, ...] | None = None
        peak = None
        error = None
        try:
            a = layer_alignments(
                net, x_probe, y_probe_np, kind=cfg.kernel,
                include_bias=cfg.include_bias, centered=cfg.centered,
            )
            curve = tuple(float(v) for v in a)
            peak = measured_peak(curve, cfg.peak_margin)
        except AlignmentError as exc:
            error = f"{type(exc).__name__}: {exc}"
        net.train()
        dt = time.perf_counter() - tm
        state["measure_s"] += dt
        checkpoints.append(Checkpoint(
            reason=reason, epoch=state["epoch"], step=state["step"],
            loss_ema=state["ema"], train_loss=tr_loss, train_accuracy=tr_acc,
            test_loss=te_loss, test_accuracy=te_acc, alignment=curve, peak=peak,
            seconds=dt, error=error,
        ))
        logger.info(
            "checkpoint %s epoch %.2f: loss_ema %s, train acc %.3f, test acc "
            "%.3f, peak %s", reason, state["epoch"], state["ema"], tr_acc, te_acc,
            None if peak is None else peak["argmax"],
        )

    pending = list(cfg.measure_losses)  # sorted high to low
    n_tr = x_tr.shape[0]
    steps_per_epoch = math.ceil(n_tr / cfg.batch_size)
    failure: dict[str, Any] | None = None
    stopped_by = "max_epochs"
    t_train0 = time.perf_counter()
    try:
        measure("init")
        for epoch in range(cfg.max_epochs):
            perm = torch.randperm(n_tr, generator=gen).to(device)
            running = 0.0
            for b in range(steps_per_epoch):
                # One SGD/Adam step on a minibatch.
                idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                loss = loss_fn(net(x_tr[idx]), y_tr[idx])
                value = float(loss.detach())
                state["step"] += 1
                state["epoch"] = epoch + (b + 1) / steps_per_epoch
                if not math.isfinite(value):
                    raise _Stop("failure", {
                        "kind": "nan_loss",
                        "reason": f"training loss became {value} at step "
                                  f"{state['step']}",
                    })
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                running += value

                # Smoothed loss, thresholds, stop and divergence.
                ema = state["ema"]
                ema = value if ema is None else cfg.ema * ema + (1 - cfg.ema) * value
                state["ema"] = ema
                if ema > cfg.divergence_loss:
                    raise _Stop("failure", {
                        "kind": "diverged",
                        "reason": f"smoothed loss {ema:.4g} exceeded "
                                  f"divergence_loss = {cfg.divergence_loss:g} at "
                                  f"step {state['step']}",
                    })
                while pending and ema < pending[0]:
                    measure(f"loss<{pending.pop(0):g}")
                if ema < cfg.stop_loss:
                    raise _Stop("stop_loss")
            epoch_losses.append(running / steps_per_epoch)
            if cfg.measure_every and (epoch + 1) % cfg.measure_every == 0:
                measure("epoch")
        measure("max_epochs")
    except _Stop as stop:
        stopped_by = stop.how
        failure = stop.failure
        if stop.how == "stop_loss":
            measure("stop")
    except (torch.cuda.OutOfMemoryError, MemoryError) as exc:
        stopped_by = "failure"
        failure = {"kind": "out_of_memory", "reason": f"{type(exc).__name__}: {exc}"}
    if failure is not None:
        failure = {**failure, "epoch": state["epoch"], "step": state["step"]}
        logger.warning("run %s failed: %s", cfg.config_hash(), failure["reason"])
    t_train = time.perf_counter() - t_train0

    final_peak = next(
        (c.peak for c in reversed(checkpoints) if c.peak is not None), None
    )
    class_counts = np.bincount(y_probe_np, minlength=C)
    record = RunRecord(
        config=cfg.to_dict(),
        config_hash=cfg.config_hash(),
        status="ok" if failure is None else "failed",
        failure=failure,
        stopped_by=stopped_by,
        checkpoints=tuple(checkpoints),
        epoch_losses=tuple(epoch_losses),
        prediction=prediction,
        peak=final_peak,
        preprocessing=dict(data.preprocessing),
        probe={
            "size": int(len(y_probe_np)),
            "split": cfg.probe_split,
            "class_counts": [int(v) for v in class_counts],
            "c0_mean_pairwise": prediction.get("c0"),
        },
        timings={
            "data": t_data,
            "prediction": t_pred,
            "training": t_train - state["measure_s"],
            "measurement": state["measure_s"],
            "total": time.perf_counter() - t_start,
        },
        versions=_versions(),
        device=str(device) + (
            f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
            else ""
        ),
        dtype=cfg.dtype,
        threads=torch.get_num_threads(),
    )
    return record
