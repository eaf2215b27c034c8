"""The report of the smoke profile: figures, and numbers that are the records'."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sigprop.validation import (
    StoreError,
    build_report,
    compare_peaks,
    fit_power_law,
    run_sweep,
    spearman,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("smoke") / "out"
    run_sweep("smoke", out, progress=False)
    build_report(out)
    return out


def _ranks(v: list[float]) -> np.ndarray:
    # Average ranks (ties share the mean of their positions), by hand.
    v = list(v)
    order = sorted(range(len(v)), key=lambda i: v[i])
    ranks = np.empty(len(v))
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "records").glob("*.json"))]


def test_report_has_the_figures(smoke: Path) -> None:
    text = (smoke / "report.md").read_text()
    labels = {json.loads((smoke / "sweep.json").read_text())["runs"][i]["label"]
              for i in range(3)}
    names = [f"alignment_{lab}.png" for lab in sorted(labels)] + [
        "peak_vs_prediction.png", "relu_eoc_depth.png", "accuracy_vs_alignment.png"]
    for name in names:
        path = smoke / "figures" / name
        assert path.read_bytes()[:8] == PNG, name
        assert f"](figures/{name})" in text, name
        assert path.stat().st_size < 200_000  # small enough to commit


def test_report_numbers_are_the_records(smoke: Path) -> None:
    recs = _records(smoke)
    assert len(recs) == 3 and all(r["status"] == "ok" for r in recs)
    text = (smoke / "report.md").read_text()
    numbers = json.loads((smoke / "report.json").read_text())

    # Each configuration (one seed here): measured argmax and predicted l*,
    # read straight from the record's JSON, are on the page.
    for r in recs:
        peak = r["peak"]["argmax"]
        assert peak == int(np.argmax(r["checkpoints"][-1]["alignment"])) + 1
        pred = r["prediction"]["dataset"]["layer"]
        start = f"| {label_of(smoke, r)} | {r['config']['depth']} |"
        row = next(line for line in text.splitlines() if line.startswith(start))
        assert f"| {pred:.2f} |" in row and f"| {peak:.2f} |" in row
        acc = r["checkpoints"][-1]["test_accuracy"]
        assert row.rstrip().endswith(f"| {acc:.2f} |")

    # MAE over runs and Spearman over configurations, computed here.
    pred = [r["prediction"]["dataset"]["layer"] for r in recs]
    meas = [r["peak"]["argmax"] for r in recs]
    mae = float(np.mean(np.abs(np.array(meas) - np.array(pred))))
    rp, rm = _ranks(pred), _ranks(meas)
    rho = float(np.corrcoef(rp, rm)[0, 1])
    m = next(x for x in numbers["metrics"]
             if x["prediction"] == "l_star_dataset" and x["measure"] == "peak_argmax")
    assert m["mae_layers"] == pytest.approx(mae, rel=1e-12)
    assert m["spearman"]["rho"] == pytest.approx(rho, rel=1e-12)
    assert f"| l_star_dataset | peak_argmax | {rho:.3f} |" in text
    assert f"| {mae:.2f} |" in text

    # The ReLU-at-EOC slope from its two depths: log-ratio over log-ratio.
    relu = sorted((r["config"]["depth"], r["peak"]["argmax"]) for r in recs
                  if r["config"]["activation"] == "relu")
    (d1, p1), (d2, p2) = relu
    slope = math.log(p2 / p1) / math.log(d2 / d1)
    assert numbers["relu_eoc"]["measured"]["exponent"] == pytest.approx(slope)
    assert f"**{slope:.3f}**" in text
    assert "3/5 = 0.600" in text


def label_of(out: Path, rec: dict) -> str:
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    return next(r["label"] for r in runs if r["config_hash"] == rec["config_hash"])


def test_report_needs_a_sweep_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"holds no sweep"):
        build_report(tmp_path)


def test_spearman_and_power_law() -> None:
    assert spearman([1, 2, 3, 4], [2, 4, 8, 16])["rho"] == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1])["rho"] == pytest.approx(-1.0)
    short = spearman([1, 2], [1, 2])
    assert short["rho"] is None and "at least 3" in short["reason"]
    flat = spearman([1, 2, 3], [5, 5, 5])
    assert flat["rho"] is None and "measured peaks are all equal" in flat["reason"]
    L = np.array([5.0, 10, 20, 40])
    fit = fit_power_law(L, 2.134 * L**0.6)
    assert fit["exponent"] == pytest.approx(0.6, abs=1e-12)
    assert fit["prefactor"] == pytest.approx(2.134, rel=1e-12)
    assert fit["stderr"] == pytest.approx(0.0, abs=1e-10)
    assert fit_power_law([5, 5], [2, 3])["exponent"] is None


def test_failed_runs_are_counted_not_averaged() -> None:
    base = {"label": "a", "depth": 5, "activation": "relu", "sigma_w2": 2.0,
            "sigma_b2": 0.0, "phase": "edge", "on_eoc": True,
            "peak_first_within_margin": None, "l_star_scalar": None,
            "max_alignment": 0.5, "test_accuracy": 0.9, "init_peak_argmax": 1,
            "l_star_dataset_boundary": False}
    rows = [
        {**base, "status": "ok", "peak_argmax": 3, "l_star_dataset": 4.0},
        {**base, "status": "ok", "peak_argmax": 5, "l_star_dataset": 4.0},
        {**base, "status": "failed", "peak_argmax": 40, "l_star_dataset": 4.0},
    ]
    n = compare_peaks(rows)
    (conf,) = n["configurations"]
    assert (conf["runs"], conf["ok"], conf["failed"]) == (3, 2, 1)
    assert conf["peak_argmax"] == 4.0
    assert conf["peak_argmax_sd"] == pytest.approx(math.sqrt(2))
    m = n["metrics"][0]
    assert m["mae_layers"] == 1.0 and m["mean_signed_error"] == 0.0
    assert n["counts"] == {"runs": 3, "ok": 2, "failed": 1, "missing": 0,
                           "no_prediction": 0}
