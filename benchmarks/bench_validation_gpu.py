"""GPU benchmark: layer kernels, alignment and a quick run on a CUDA device.

Ready for a machine with one NVIDIA GPU; exits with a message where there is
none. Times (with ``torch.cuda.synchronize``) and peak GPU memory
(``torch.cuda.max_memory_allocated``) of

- traced kernels + alignment and streamed full-kernel alignment for the
  ReLU MLP of the CPU benchmark (depth 50, width 256, 500 probes, 10
  classes) and for a larger one (``--big``: depth 100, width 512, 2,000
  probes);
- the brute-force Jacobian kernels on two layers (extrapolated by parameter
  count, as on the CPU);
- the quick run (MNIST-5k, depth 20, width 256, to smoothed loss < 0.1).

Usage: ``python benchmarks/bench_validation_gpu.py [--big] [--json FILE]``.
``main(argv)`` returns the headline figures as a flat dict (empty where there
is no GPU), for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sigprop.validation import (
    MLP,
    RunConfig,
    alignment,
    jacobian_layer_kernels,
    kernel_memory_estimate,
    layer_alignments,
    layer_tangent_kernels,
    load_dataset,
    run_experiment,
)
from sigprop.validation._data import balanced_indices


def _timed(fn: Any, repeats: int) -> tuple[float, float, Any]:
    times, out = [], None
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated() - base) / 2.0**20
    return statistics.median(times), peak, out


def bench_kernels(depth: int, width: int, n: int, repeats: int) -> dict[str, Any]:
    ds = load_dataset("mnist5k", seed=0)
    split_x, split_y = (ds.x_test, ds.y_test) if n <= 1000 else (ds.x_train, ds.y_train)
    idx = balanced_indices(split_y, n, np.random.default_rng(0))
    x = torch.as_tensor(split_x[idx], dtype=torch.float32, device="cuda")
    y = split_y[idx]
    net = MLP(
        "relu", depth, width, 784, 10, 2.0, 0.0, device="cuda", dtype="float32", seed=0
    )
    net(x[:2])
    out: dict[str, Any] = {"depth": depth, "width": width, "n": n}

    def traced() -> list[float]:
        return [alignment(K, y) for K in layer_tangent_kernels(net, x, kind="traced")]

    def full() -> list[float]:
        return list(layer_alignments(net, x, y, kind="full"))

    for name, fn, kind in (("traced", traced, "traced"), ("full", full, "full")):
        med, peak, _ = _timed(fn, repeats)
        est = kernel_memory_estimate(net, n, kind=kind, materialize=kind == "traced")
        out[name] = {
            "median_s": med,
            "peak_mib": peak,
            "estimate_mib": est.total / 2.0**20,
        }
        print(name, out[name], flush=True)
    L1 = depth + 1
    for name, kind in (("bf-traced", "traced"), ("bf-full", "full")):
        per = {}
        for k in (2, L1):
            try:
                med, peak, _ = _timed(
                    lambda k=k, kind=kind: [
                        alignment(K, y)
                        for K in jacobian_layer_kernels(net, x, kind=kind, layers=[k])
                    ],
                    1,
                )
            except torch.cuda.OutOfMemoryError:
                print(f"{name} layer {k}: out of GPU memory", flush=True)
                torch.cuda.empty_cache()
                break
            per[k] = (med, peak)
        if 2 in per:
            p_hidden = width * width + width
            p_in = 784 * width + width
            total = (
                per[2][0] * ((depth - 1) + p_in / p_hidden) + per.get(L1, (0.0, 0.0))[0]
            )
            out[name] = {
                "per_layer": per,
                "extrapolated_all_s": total,
                "speedup": total / out[kind]["median_s"],
            }
            print(name, out[name], flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    opts = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs a GPU", file=sys.stderr)
        return {}
    results: dict[str, Any] = {"device": torch.cuda.get_device_name(0)}
    results["kernels"] = bench_kernels(50, 256, 500, opts.repeats)
    if opts.big:
        results["kernels_big"] = bench_kernels(100, 512, 2000, opts.repeats)
    t0 = time.perf_counter()
    rec = run_experiment(
        RunConfig(
            dataset="mnist5k",
            depth=20,
            width=256,
            lr=4e-3,
            stop_loss=0.1,
            measure_losses=(),
            device="cuda",
        )
    )
    results["quick_run"] = {
        "wall_s": time.perf_counter() - t0,
        "status": rec.status,
        "timings": rec.timings,
        "peak": rec.peak,
        "predicted": {
            k: (rec.prediction.get(k) or {}).get("layer") for k in ("dataset", "scalar")
        },
    }
    print("quick run", results["quick_run"], flush=True)
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
    figures: dict[str, float] = {"quick_run_wall_s": results["quick_run"]["wall_s"]}
    for key in ("kernels", "kernels_big"):
        for method in ("traced", "full"):
            if key in results and method in results[key]:
                entry = results[key][method]
                figures[f"{key}_{method}_median_s"] = entry["median_s"]
                figures[f"{key}_{method}_peak_gpu_mib"] = entry["peak_mib"]
    return figures


if __name__ == "__main__":
    if not main(sys.argv[1:]):
        sys.exit(1)
