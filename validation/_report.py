"""The report of a sweep: figures and a Markdown page, from the records alone.

:func:`build_report` reads ``OUT/sweep.json`` and the records, computes the
comparison of measured and predicted peaks, and writes ``OUT/report.md``,
``OUT/report.json`` (the same numbers, for machines) and the figures under
``OUT/figures/``. Every number on the page is computed here from the records;
none is typed in.

The comparison (VALIDATION.md, "Summary figures"):

- a *configuration* is a label and a depth; its measured peak is the mean
  over its seeds of ``argmax_l A(l, T)`` (and of the robust companion), its
  prediction the mean over seeds of the core's ``l*`` for the same probe
  inputs (dataset-level, and from the scalar ``c0``);
- Spearman's rank correlation between predicted and measured peaks over
  configurations, and the mean absolute error in layers over runs;
- for ReLU at its EOC, the least-squares slope of ``log peak`` against
  ``log L`` over runs (the fitted exponent), beside the theory's 3/5 and the
  slope of the core's own ``l*`` over the same depths.

Failed runs (diverged, NaN) are counted and listed, never averaged in.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import sigprop as sp

from ._runs import LAYER_NUMBERING, RunRecord
from ._store import SummaryTable, SweepStore, atomic_write_text, summary_row

__all__ = ["build_report", "compare_peaks", "fit_power_law", "spearman"]

logger = logging.getLogger(__name__)

#: The exponent of ``l*`` against ``L`` for ReLU at its EOC (THEORY.md 6).
RELU_EOC_EXPONENT = 0.6


def spearman(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Spearman's rank correlation, or why it is undefined.

    Returns
    -------
    dict
        ``rho``, ``p_value`` and ``n``; ``rho`` is None with a ``reason``
        when there are fewer than 3 pairs or a side is constant.
    """
    from scipy import stats

    xa, ya = np.asarray(x, float), np.asarray(y, float)
    n = int(xa.size)
    if n < 3:
        return {"rho": None, "p_value": None, "n": n,
                "reason": f"needs at least 3 configurations; got {n}"}
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        side = "predicted" if np.ptp(xa) == 0 else "measured"
        return {"rho": None, "p_value": None, "n": n,
                "reason": f"the {side} peaks are all equal"}
    res = stats.spearmanr(xa, ya)
    return {"rho": float(res.statistic), "p_value": float(res.pvalue), "n": n,
            "reason": None}


def fit_power_law(depth: Sequence[float], peak: Sequence[float]) -> dict[str, Any]:
    """Least-squares fit of ``log peak = log A + b log L`` over points.

    Returns
    -------
    dict
        ``exponent`` (b), its ``stderr`` (None with 2 distinct depths),
        ``prefactor`` (A) and ``n``; ``exponent`` is None with a ``reason``
        when fewer than 2 distinct depths are given.
    """
    L = np.asarray(depth, float)
    p = np.asarray(peak, float)
    n = int(L.size)
    if np.unique(L).size < 2:
        return {"exponent": None, "stderr": None, "prefactor": None, "n": n,
                "reason": "needs at least 2 distinct depths"}
    X = np.column_stack([np.ones(n), np.log(L)])
    coef, *_ = np.linalg.lstsq(X, np.log(p), rcond=None)
    stderr = None
    if n > 2:
        resid = np.log(p) - X @ coef
        s2 = float(resid @ resid) / (n - 2)
        cov = s2 * np.linalg.inv(X.T @ X)
        stderr = float(math.sqrt(cov[1, 1]))
    return {"exponent": float(coef[1]), "stderr": stderr,
            "prefactor": float(math.exp(coef[0])), "n": n, "reason": None}


def _mean_sd(values: Sequence[float]) -> tuple[float | None, float | None]:
    v = [float(x) for x in values if x is not None]
    if not v:
        return None, None
    sd = float(np.std(v, ddof=1)) if len(v) > 1 else None
    return float(np.mean(v)), sd


def compare_peaks(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The numbers of the report, from summary rows (see :class:`SummaryTable`).

    Returns
    -------
    dict
        ``configurations`` (one entry per label and depth: seeds, means and
        standard deviations over seeds), ``metrics`` (per prediction and
        peak measure: Spearman over configurations, MAE over runs),
        ``relu_eoc`` (the fitted exponents) and ``counts``.
    """
    ok = [r for r in rows if r["status"] == "ok" and r["peak_argmax"] is not None]
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    order: list[tuple[str, int]] = []
    for r in rows:
        key = (r["label"], int(r["depth"]))
        if key not in groups:
            order.append(key)
        groups[key].append(r)

    configurations = []
    for key in order:
        rs = groups[key]
        good = [r for r in rs if r in ok]
        entry: dict[str, Any] = {
            "label": key[0], "depth": key[1], "runs": len(rs), "ok": len(good),
            "failed": sum(r["status"] == "failed" for r in rs),
            "activation": rs[0]["activation"], "sigma_w2": rs[0]["sigma_w2"],
            "sigma_b2": rs[0]["sigma_b2"], "phase": rs[0]["phase"],
            "on_eoc": rs[0]["on_eoc"],
        }
        for col in ("peak_argmax", "peak_first_within_margin", "l_star_dataset",
                    "l_star_scalar", "max_alignment", "test_accuracy",
                    "init_peak_argmax"):
            entry[col], entry[col + "_sd"] = _mean_sd([r[col] for r in good])
        entry["l_star_dataset_boundary"] = sorted(
            {str(r["l_star_dataset_boundary"]) for r in good}
        )
        configurations.append(entry)

    metrics = []
    for pred in ("l_star_dataset", "l_star_scalar"):
        for meas in ("peak_argmax", "peak_first_within_margin"):
            pairs = [(r[pred], r[meas]) for r in ok
                     if r[pred] is not None and r[meas] is not None]
            cpairs = [(c[pred], c[meas]) for c in configurations
                      if c[pred] is not None and c[meas] is not None]
            rho = spearman([a for a, _ in cpairs], [b for _, b in cpairs])
            mae = (float(np.mean([abs(b - a) for a, b in pairs])) if pairs else None)
            bias = (float(np.mean([b - a for a, b in pairs])) if pairs else None)
            metrics.append({
                "prediction": pred, "measure": meas, "spearman": rho,
                "mae_layers": mae, "mean_signed_error": bias, "runs": len(pairs),
            })

    relu = [r for r in ok if r["activation"] == "relu" and r["on_eoc"]]
    relu_fit = fit_power_law([r["depth"] for r in relu],
                             [r["peak_argmax"] for r in relu])
    relu_pred = [r for r in relu if r["l_star_dataset"] is not None]
    pred_fit = fit_power_law([r["depth"] for r in relu_pred],
                             [r["l_star_dataset"] for r in relu_pred])
    counts = {
        "runs": len(rows), "ok": len(ok),
        "failed": sum(r["status"] == "failed" for r in rows),
        "missing": sum(r["status"] in ("missing", "error") for r in rows),
        "no_prediction": sum(r["l_star_dataset"] is None for r in ok),
    }
    return {
        "configurations": configurations,
        "metrics": metrics,
        "relu_eoc": {"measured": relu_fit, "predicted": pred_fit,
                     "theory": RELU_EOC_EXPONENT, "runs": len(relu)},
        "counts": counts,
    }


# -- figures ------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _colors(labels: Sequence[str]) -> dict[str, Any]:
    plt = _pyplot()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {lab: cycle[i % len(cycle)] for i, lab in enumerate(labels)}


def _fig_alignment(
    label: str, by_depth: dict[int, list[RunRecord]], path: Path
) -> None:
    plt = _pyplot()
    depths = sorted(by_depth)
    fig, axes = plt.subplots(1, len(depths), figsize=(3.2 * len(depths), 2.8),
                             squeeze=False)
    for ax, depth in zip(axes[0], depths, strict=True):
        recs = by_depth[depth]
        reasons: list[str] = []
        for rec in recs:
            for c in rec.checkpoints:
                if c.reason not in reasons:
                    reasons.append(c.reason)
        cmap = plt.get_cmap("viridis")
        layers = np.arange(1, depth + 2)
        for i, reason in enumerate(reasons):
            curves = [np.asarray(c.alignment) for rec in recs for c in rec.checkpoints
                      if c.reason == reason and c.alignment is not None]
            if not curves:
                continue
            a = np.vstack(curves)
            color = cmap(i / max(1, len(reasons) - 1))
            ax.plot(layers, a.mean(axis=0), color=color, lw=1.5,
                    label=f"{reason} ({len(curves)})")
            if len(curves) > 1:
                ax.fill_between(layers, a.min(axis=0), a.max(axis=0), color=color,
                                alpha=0.15, lw=0)
        preds = [
            float(p) for rec in recs
            if (p := (rec.prediction.get("dataset") or {}).get("layer")) is not None
        ]
        if preds:
            ax.axvline(float(np.mean(preds)), color="k", ls="--", lw=1,
                       label="predicted l*")
        peaks = [rec.peak["argmax"] for rec in recs if rec.ok and rec.peak]
        if peaks:
            ax.axvline(float(np.mean(peaks)), color="C3", ls=":", lw=1.2,
                       label="measured peak")
        ax.set_title(f"L = {depth}", fontsize=9)
        ax.set_xlabel("linear layer l")
        ax.tick_params(labelsize=8)
    axes[0][0].set_ylabel("alignment A(l, t)")
    axes[0][-1].legend(fontsize=6, loc="best")
    fig.suptitle(f"{label}: alignment by layer at each checkpoint (mean over seeds, "
                 "band = range)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _fig_peak_vs_prediction(confs: list[dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    labels = list(dict.fromkeys(c["label"] for c in confs))
    col = _colors(labels)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    top = 1.0
    for c in confs:
        if c["l_star_dataset"] is None or c["peak_argmax"] is None:
            continue
        ax.errorbar(c["l_star_dataset"], c["peak_argmax"],
                    xerr=c["l_star_dataset_sd"], yerr=c["peak_argmax_sd"],
                    fmt="o", ms=4, capsize=2, color=col[c["label"]])
        ax.annotate(str(c["depth"]), (c["l_star_dataset"], c["peak_argmax"]),
                    fontsize=6, xytext=(3, 3), textcoords="offset points")
        top = max(top, c["l_star_dataset"], c["peak_argmax"], c["depth"] + 1)
    ax.plot([0, top], [0, top], color="0.5", lw=0.8, ls="--", label="measured = l*")
    for lab in labels:
        ax.plot([], [], "o", color=col[lab], label=lab)
    ax.set_xlabel("predicted l* (dataset, mean over seeds)")
    ax.set_ylabel("measured peak layer (argmax, mean +- sd)")
    ax.set_title("Measured peak vs predicted l* (labels: depth L)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _fig_relu_depth(rows: list[dict[str, Any]], fits: dict[str, Any],
                    path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    relu = [r for r in rows if r["status"] == "ok" and r["peak_argmax"] is not None
            and r["activation"] == "relu" and r["on_eoc"]]
    depths = sorted({int(r["depth"]) for r in relu})
    meas = [_mean_sd([r["peak_argmax"] for r in relu if r["depth"] == d])
            for d in depths]
    pred = [_mean_sd([r["l_star_dataset"] for r in relu if r["depth"] == d])
            for d in depths]
    ax.errorbar(depths, [m for m, _ in meas], yerr=[s or 0.0 for _, s in meas], fmt="o",
                capsize=2, color="C0", label="measured peak (mean +- sd)")
    if all(p is not None for p, _ in pred):
        ax.plot(depths, [p for p, _ in pred], "s", mfc="none", color="C1",
                label="predicted l* (dataset)")
    grid = np.geomspace(min(depths), max(depths), 50)
    m = fits["measured"]
    if m["exponent"] is not None:
        ax.plot(grid, m["prefactor"] * grid ** m["exponent"], color="C0", lw=1,
                label=f"fit: exponent {m['exponent']:.2f}")
    p = fits["predicted"]
    if p["exponent"] is not None:
        ax.plot(grid, p["prefactor"] * grid ** p["exponent"], color="C1", lw=1,
                ls="--", label=f"l* fit: exponent {p['exponent']:.2f}")
    law = sp.asymptotics("relu")  # THEORY.md section 6, not a typed-in constant
    ax.plot(grid, [float(law(g)) for g in grid], color="0.5", lw=0.8, ls=":",
            label=f"{float(law.prefactor):.3f} L^(3/5) (THEORY.md 6)")
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(depths)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("depth L (hidden layers)")
    ax.set_ylabel("peak layer")
    ax.set_title("ReLU at EOC: peak layer vs depth", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _fig_accuracy(rows: list[dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    ok = [r for r in rows if r["status"] == "ok" and r["max_alignment"] is not None]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    col = _colors(labels)
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    for lab in labels:
        rs = [r for r in ok if r["label"] == lab]
        ax.scatter([r["max_alignment"] for r in rs], [r["test_accuracy"] for r in rs],
                   s=[8 + 0.6 * r["depth"] for r in rs], color=col[lab], label=lab,
                   alpha=0.8)
    ax.set_xlabel("peak alignment max_l A(l, T)")
    ax.set_ylabel("test accuracy at T")
    ax.set_title("Accuracy beside peak alignment (size: depth)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -- the page -----------------------------------------------------------------


def _f(x: Any, spec: str = ".2f") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan"
    return format(x, spec)


def _pm(mean: Any, sd: Any) -> str:
    if mean is None:
        return "-"
    return _f(mean) if sd is None else f"{_f(mean)} +- {_f(sd)}"


def build_report(out: str | Path, *, figures: bool = True) -> Path:
    """Write ``OUT/report.md``, ``OUT/report.json`` and ``OUT/figures/``.

    Parameters
    ----------
    out : str or Path
        A sweep folder (written by :func:`run_sweep`).
    figures : bool, default True
        Draw the figures (needs matplotlib); without, the page has the
        tables only.

    Returns
    -------
    Path
        The Markdown report.

    Notes
    -----
    Numbers on the page: layers and accuracies with 2 decimals
    (``format(x, ".2f")``), correlations and exponents with 3. A
    configuration whose runs all failed shows ``-``; a statistic that is
    undefined says why instead of printing NaN.
    """
    store = SweepStore(out)
    pairs = list(store.records())
    rows = [summary_row(run, rec) for run, rec in pairs]
    table = SummaryTable(rows)
    numbers = compare_peaks(table.rows)
    manifest = store.manifest
    root = store.root
    fig_dir = root / "figures"

    figs: list[tuple[str, str]] = []
    if figures and table.rows:
        fig_dir.mkdir(exist_ok=True)
        by_label: dict[str, dict[int, list[RunRecord]]] = defaultdict(
            lambda: defaultdict(list))
        for run, rec in pairs:
            if rec is not None:
                by_label[run["label"]][int(run["config"].get("depth", 20))].append(rec)
        for label, by_depth in by_label.items():
            name = f"alignment_{label}.png"
            _fig_alignment(label, by_depth, fig_dir / name)
            figs.append((f"Alignment curves: {label}", name))
        if numbers["counts"]["ok"]:
            _fig_peak_vs_prediction(numbers["configurations"],
                                    fig_dir / "peak_vs_prediction.png")
            figs.append(("Measured peak vs predicted l*", "peak_vs_prediction.png"))
            _fig_accuracy(table.rows, fig_dir / "accuracy_vs_alignment.png")
            figs.append(("Accuracy beside peak alignment",
                         "accuracy_vs_alignment.png"))
        if numbers["relu_eoc"]["measured"]["exponent"] is not None:
            _fig_relu_depth(table.rows, numbers["relu_eoc"],
                            fig_dir / "relu_eoc_depth.png")
            figs.append(("ReLU at EOC: peak vs depth", "relu_eoc_depth.png"))

    text = _page(manifest, table.rows, numbers, pairs, figs)
    atomic_write_text(root / "report.json", json.dumps(
        {"sweep": manifest["name"], "fingerprint": manifest["fingerprint"],
         **numbers, "figures": [f"figures/{n}" for _, n in figs]},
        indent=1, allow_nan=False,
    ))
    path = atomic_write_text(root / "report.md", text)
    logger.info("report written to %s", path)
    return path


def _page(
    manifest: dict[str, Any],
    rows: list[dict[str, Any]],
    numbers: dict[str, Any],
    pairs: list[tuple[dict[str, Any], RunRecord | None]],
    figs: list[tuple[str, str]],
) -> str:
    c = numbers["counts"]
    recs = [rec for _, rec in pairs if rec is not None]
    versions = sorted({rec.versions.get("sigprop", "?") for rec in recs})
    devices = sorted({rec.device for rec in recs})
    compute = sum(rec.timings.get("total", 0.0) for rec in recs)
    sessions = manifest.get("sessions", [])
    wall = sum(s.get("seconds", 0.0) for s in sessions)
    lines = [
        f"# Validation report: sweep `{manifest['name']}`",
        "",
        manifest.get("description") or "",
        "",
        f"- sweep fingerprint `{manifest['fingerprint']}`; sigprop "
        f"{', '.join(versions) or '-'}; device {', '.join(devices) or '-'}",
        f"- runs: {c['runs']} in the sweep, {c['ok']} ok, {c['failed']} failed, "
        f"{c['missing']} without a record",
        f"- time: {_f(wall, '.1f')} s wall over {len(sessions)} session(s) of "
        f"`run_sweep`; {_f(compute, '.1f')} s of run time summed over records",
        f"- layer numbering: {LAYER_NUMBERING}",
        "- measured peak: argmax over layers of the alignment at the last "
        "checkpoint; robust peak: the first layer within `peak_margin` of the "
        "maximum; predicted l*: the core's equilibrium layer for the same probe "
        "inputs (dataset-level; `c0`: from the mean pairwise correlation)",
        "",
        "## Prediction against measurement",
        "",
        "Spearman's rho over configurations (label x depth, means over seeds); "
        "MAE and mean signed error (measured - predicted) in layers over runs.",
        "",
        "| prediction | measured peak | Spearman rho | p | configurations | "
        "MAE (layers) | mean signed error | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in numbers["metrics"]:
        rho = m["spearman"]
        rho_s = _f(rho["rho"], ".3f") if rho["rho"] is not None else (
            f"undefined ({rho['reason']})")
        lines.append(
            f"| {m['prediction']} | {m['measure']} | {rho_s} | "
            f"{_f(rho['p_value'], '.3g')} | {rho['n']} | {_f(m['mae_layers'])} | "
            f"{_f(m['mean_signed_error'])} | {m['runs']} |"
        )
    fit = numbers["relu_eoc"]
    lines += ["", "## ReLU at the edge of chaos: peak against depth", ""]
    mf, pf = fit["measured"], fit["predicted"]
    if mf["exponent"] is None:
        lines.append(f"No fit: {mf['reason']} ({fit['runs']} ReLU-at-EOC runs).")
    else:
        se = f" +- {_f(mf['stderr'], '.3f')}" if mf["stderr"] is not None else ""
        lines.append(
            f"Fitted exponent of the measured peak: **{_f(mf['exponent'], '.3f')}"
            f"{se}** over {mf['n']} runs, beside the theory's 3/5 = "
            f"{_f(fit['theory'], '.3f')} (large-L law) and "
            f"{_f(pf['exponent'], '.3f')} for the core's exact l* over the same "
            "depths."
        )
    lines += [
        "",
        "## Configurations",
        "",
        "| label | L | phase | sigma_w2 | sigma_b2 | ok/runs | predicted l* | "
        "l* (c0) | measured peak | robust peak | peak at init | max alignment | "
        "test accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cf in numbers["configurations"]:
        bnd = [b for b in cf["l_star_dataset_boundary"] if b not in ("False", "None")]
        flag = " (boundary)" if bnd else ""
        lines.append(
            f"| {cf['label']} | {cf['depth']} | {cf['phase'] or '-'} | "
            f"{_f(cf['sigma_w2'], '.4f')} | {_f(cf['sigma_b2'], '.3f')} | "
            f"{cf['ok']}/{cf['runs']} | "
            f"{_pm(cf['l_star_dataset'], cf['l_star_dataset_sd'])}{flag} | "
            f"{_pm(cf['l_star_scalar'], cf['l_star_scalar_sd'])} | "
            f"{_pm(cf['peak_argmax'], cf['peak_argmax_sd'])} | "
            f"{_pm(cf['peak_first_within_margin'], cf['peak_first_within_margin_sd'])}"
            f" | {_pm(cf['init_peak_argmax'], cf['init_peak_argmax_sd'])} | "
            f"{_pm(cf['max_alignment'], cf['max_alignment_sd'])} | "
            f"{_pm(cf['test_accuracy'], cf['test_accuracy_sd'])} |"
        )
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        lines += ["", "## Runs without a result", ""]
        for r in bad:
            lines.append(
                f"- `{r['config_hash']}` {r['label']} L={r['depth']} "
                f"seed={r['seed']}: {r['status']} ({r['failure_kind'] or '-'}: "
                f"{r['failure'] or 'no record'})"
            )
    if figs:
        lines += ["", "## Figures", ""]
        for title, name in figs:
            lines += [f"### {title}", "", f"![{title}](figures/{name})", ""]
    return "\n".join(lines).rstrip() + "\n"
