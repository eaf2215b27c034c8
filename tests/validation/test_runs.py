"""run_experiment on small synthetic tasks: protocol, records, failures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import sigprop as sp
from sigprop._errors import EquilibriumError
from sigprop.validation import (
    RunConfig,
    RunFailedError,
    load_record,
    mean_pairwise_correlation,
    measured_peak,
    run_experiment,
    save_record,
)

QUICK = RunConfig(
    dataset="gaussian_mixture", depth=5, width=48, probe_size=60, lr=0.05,
    max_epochs=40, device="cpu", num_threads=1,
)


@pytest.fixture(scope="module")
def record():  # type: ignore[no-untyped-def]
    return run_experiment(QUICK)


def test_protocol_checkpoints(record) -> None:  # type: ignore[no-untyped-def]
    assert record.ok and record.stopped_by == "stop_loss"
    reasons = [c.reason for c in record.checkpoints]
    assert reasons == ["init", "loss<0.1", "stop"]
    thr, stop = record.checkpoints[1], record.checkpoints[2]
    assert thr.loss_ema < 0.1 <= record.checkpoints[0].train_loss
    assert stop.loss_ema < QUICK.stop_loss and stop.step > thr.step
    curves = record.alignment_curves()
    assert curves.shape == (3, QUICK.depth + 1)
    assert np.all(np.isfinite(curves)) and np.all(np.abs(curves) <= 1)
    # Training aligns the kernels with the labels (a fact of this easy task).
    assert curves[-1].max() > curves[0].max()
    assert stop.train_accuracy > 0.9
    assert record.peak == stop.peak
    assert record.peak["argmax"] == int(np.argmax(curves[-1])) + 1
    assert record.probe["class_counts"] == [15, 15, 15, 15]
    assert "linear layer l" in record.layer_numbering


def test_prediction_is_recorded(record) -> None:  # type: ignore[no-untyped-def]
    pred = record.prediction
    assert pred["c0"] == pytest.approx(record.probe["c0_mean_pairwise"])
    for which in ("dataset", "scalar"):
        entry = pred[which]
        if hasattr(sp, "MeanField"):
            assert entry.get("error") is None, entry
            assert entry["layer"] is not None and math.isfinite(entry["layer"])
        else:
            assert "MeanField" in entry["error"]


def test_record_metadata(record) -> None:  # type: ignore[no-untyped-def]
    assert record.device == "cpu" and record.dtype == "float32"
    assert record.versions["torch"] and record.versions["sigprop"] == sp.__version__
    assert set(record.timings) == {"data", "prediction", "training", "measurement",
                                   "total"}
    assert record.preprocessing["center"] == "train_mean"
    assert record.config == QUICK.to_dict()
    assert len(record.epoch_losses) >= 1


def test_deterministic_on_cpu(record) -> None:  # type: ignore[no-untyped-def]
    again = run_experiment(QUICK)
    a, b = record.to_dict(), again.to_dict()
    a.pop("timings"), b.pop("timings")
    for d in (a, b):
        d["prediction"].pop("seconds", None)
        for c in d["checkpoints"]:
            c.pop("seconds")
    assert a == b


def test_save_and_load(tmp_path: Path, record) -> None:  # type: ignore[no-untyped-def]
    path = save_record(record, tmp_path / "runs")
    assert path.name == f"{QUICK.config_hash()}.json"
    assert list(path.parent.glob(".tmp-*")) == []
    json.loads(path.read_text())  # strict JSON
    back = load_record(path)
    np.testing.assert_array_equal(back.alignment_curves(), record.alignment_curves())
    assert back.prediction == json.loads(json.dumps(record.to_dict()))["prediction"]


def test_divergence_is_a_recorded_failure() -> None:
    cfg = QUICK.replace(lr=50.0, momentum=0.9, max_epochs=5)
    rec = run_experiment(cfg)
    assert rec.status == "failed" and rec.stopped_by == "failure"
    assert rec.failure["kind"] in ("diverged", "nan_loss")
    assert rec.failure["step"] >= 1
    assert rec.checkpoints[0].reason == "init"
    json.loads(rec.to_json())  # NaN never reaches the JSON
    with pytest.raises(RunFailedError, match=r"run failed") as info:
        run_experiment(cfg, raise_on_failure=True)
    assert info.value.record.failure["kind"] == rec.failure["kind"]


def test_epoch_schedule_and_cap() -> None:
    cfg = QUICK.replace(max_epochs=3, measure_every=1, measure_losses=[],
                        stop_loss=0.0, lr=1e-4, kernel="traced")
    rec = run_experiment(cfg)
    assert rec.ok and rec.stopped_by == "max_epochs"
    assert [c.reason for c in rec.checkpoints] == [
        "init", "epoch", "epoch", "epoch", "max_epochs"
    ]
    assert [c.epoch for c in rec.checkpoints[1:4]] == [1.0, 2.0, 3.0]


def test_mse_and_adam_run() -> None:
    rec = run_experiment(QUICK.replace(loss="mse", optimizer="adam", lr=1e-3,
                                       max_epochs=2, stop_loss=0.0))
    assert rec.ok and rec.checkpoints[-1].alignment is not None


def test_measured_peak() -> None:
    curve = [0.1, 0.50, 0.52, 0.3, 0.2]
    p = measured_peak(curve, margin=0.05)
    assert p["argmax"] == 3 and p["first_within_margin"] == 2
    assert p["max_alignment"] == 0.52
    # 3-layer moving average: (0.5+0.52+0.3)/3 = 0.44 at layer 3, the largest.
    assert p["smoothed"] == 3
    # Edges average over two layers: 0.25, 0.233, 0.15.
    assert measured_peak([0.4, 0.1, 0.2])["smoothed"] == 1
    with pytest.raises(ValueError, match=r"finite values"):
        measured_peak([0.1, float("nan")])


def test_mean_pairwise_correlation_brute_force() -> None:
    X = np.random.default_rng(0).standard_normal((7, 3)) + 0.5
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = U @ U.T
    want = np.mean(C[~np.eye(7, dtype=bool)])
    assert mean_pairwise_correlation(X) == pytest.approx(want, rel=1e-12)


def test_bad_config_type() -> None:
    with pytest.raises(TypeError, match=r"`config` must be a RunConfig"):
        run_experiment({"depth": 3})  # type: ignore[arg-type]


def test_probe_too_large_is_named() -> None:
    with pytest.raises(ValueError, match=r"`probe_size` = 1000 needs 250"):
        run_experiment(QUICK.replace(probe_size=1000))


class _FakeEq:
    layer = 3.25
    boundary = None
    crossings = (3.25,)
    c_star = 1.0
    forward = np.linspace(1.0, 0.0, 6)
    backward = np.linspace(0.2, 1.0, 6)


class _FakeMeanField:
    """Stands in for the core to test the plumbing, not the theory."""

    calls: list[tuple[str, object]] = []

    def __init__(self, act: object, *, sigma_w2: float, sigma_b2: float) -> None:
        self.args = (act, sigma_w2, sigma_b2)

    def equilibrium_for_data(self, X: np.ndarray, depth: int) -> _FakeEq:
        self.calls.append(("data", (X.shape, depth)))
        return _FakeEq()

    def equilibrium(self, depth: int, c0: float = 0.0) -> _FakeEq:
        self.calls.append(("scalar", (depth, c0)))
        raise EquilibriumError("|c0 - c*| is too small")


def test_prediction_plumbing_with_a_stand_in_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigprop.validation import predict_equilibrium

    monkeypatch.setattr(sp, "MeanField", _FakeMeanField, raising=False)
    X = np.random.default_rng(0).standard_normal((10, 4))
    pred = predict_equilibrium(sp.activation("relu"), 2.0, 0.0, 5, X)
    assert pred["dataset"]["layer"] == 3.25 and pred["dataset"]["error"] is None
    assert pred["dataset"]["forward"] == pytest.approx(list(_FakeEq.forward))
    # A core error is recorded as the prediction's failure reason, not raised.
    assert "too small" in pred["scalar"]["error"]
    assert ("data", ((10, 4), 5)) in _FakeMeanField.calls
    assert ("scalar", (5, pytest.approx(mean_pairwise_correlation(X)))) in (
        _FakeMeanField.calls
    )
