"""Benchmark: layer kernels + alignment vs brute-force Jacobians (CPU).

Network: ReLU MLP at its EOC (sigma_w2 = 2, sigma_b2 = 0), depth 50 (51
linear layers), width 256, 784 inputs, 10 classes, float32; probe: 500
class-balanced MNIST-5k test images (preprocessed as in a run).

Measured, each in a fresh child process (so that peak memory is its own):

- ``traced``: ``layer_tangent_kernels(kind="traced")`` for all 51 layers plus
  ``alignment`` of each;
- ``full``: ``layer_alignments(kind="full")`` for all 51 layers (the full
  kernels streamed one layer at a time, as a run measures them);
- ``bf-traced`` / ``bf-full``: ``jacobian_layer_kernels`` (``torch.func``
  per-example Jacobians, then ``J J^T``) plus alignment, on a few layers
  only (``--bf-layers``), extrapolated to all 51 by parameter count: one
  brute-force layer costs O(n C P_l) memory and O((n C)^2 P_l) time.

Peak memory is the rise of the child's peak resident set (VmHWM, reset
through /proc/self/clear_refs after setup) while the call runs.
Usage: ``python benchmarks/bench_validation_kernels.py [--repeats 3]``.
``main(argv)`` returns the figures as a flat dict, for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from collections.abc import Sequence
from typing import Any


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _child(
    method: str, args: dict[str, Any], layers: list[int] | None, queue: Any
) -> None:
    import numpy as np
    import torch

    from sigprop.validation import (
        MLP,
        alignment,
        jacobian_layer_kernels,
        kernel_memory_estimate,
        layer_alignments,
        layer_tangent_kernels,
        load_dataset,
    )
    from sigprop.validation._data import balanced_indices

    torch.set_num_threads(args["threads"])
    ds = load_dataset("mnist5k", seed=0)
    idx = balanced_indices(ds.y_test, args["n"], np.random.default_rng(0))
    x = torch.as_tensor(ds.x_test[idx], dtype=torch.float32)
    y = ds.y_test[idx]
    net = MLP(
        "relu",
        args["depth"],
        args["width"],
        784,
        10,
        2.0,
        0.0,
        device="cpu",
        dtype="float32",
        seed=0,
    )
    net(x[:2])  # warm up
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak resident set size
    base = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    if method == "traced":
        Ks = layer_tangent_kernels(net, x, kind="traced")
        a = [alignment(K, y) for K in Ks]
        est = kernel_memory_estimate(net, len(y), kind="traced")
    elif method == "full":
        a = list(layer_alignments(net, x, y, kind="full"))
        est = kernel_memory_estimate(net, len(y), kind="full", materialize=False)
    else:
        kind = "traced" if method == "bf-traced" else "full"
        a = [
            alignment(K, y)
            for K in jacobian_layer_kernels(net, x, kind=kind, layers=layers)
        ]
        est = None
    seconds = time.perf_counter() - t0
    peak = _rss_kib("VmHWM")
    queue.put(
        {
            "method": method,
            "seconds": seconds,
            "peak_mib": (peak - base) / 1024.0,
            "estimate_mib": None if est is None else est.total / 2.0**20,
            "alignment": [float(v) for v in a],
            "layers": layers,
        }
    )


def _measure(
    method: str, args: dict[str, Any], layers: list[int] | None = None
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(method, args, layers, q))
    p.start()
    out = q.get()
    p.join()
    return out


def figures_of(results: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of ``results``, flat: seconds, MiB and speed-ups."""
    out: dict[str, float] = {}
    for method in ("traced", "full"):
        if method in results:
            out[f"{method}_median_s"] = results[method]["median_s"]
            out[f"{method}_peak_rss_mib"] = results[method]["peak_mib"]
    for method in ("bf-traced", "bf-full"):
        if method in results:
            key = method.replace("-", "_")
            out[f"{key}_extrapolated_s"] = results[method]["extrapolated_all_s"]
            out[f"{key}_peak_rss_mib"] = results[method]["peak_mib"]
            out[f"{key}_speedup_x"] = results[method]["speedup"]
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf-layers", type=int, nargs="*", default=[1, 2, 51])
    ap.add_argument("--skip-bf-full", action="store_true")
    ap.add_argument("--skip-bf", action="store_true")
    ap.add_argument("--json", type=str, default=None, help="write results here")
    opts = ap.parse_args(argv)
    args = {
        "depth": opts.depth,
        "width": opts.width,
        "n": opts.n,
        "threads": opts.threads,
    }
    L1 = opts.depth + 1
    d, N, C = 784, opts.width, 10
    params = {1: d * N + N, L1: N * C + C}
    n_params = [params.get(k, N * N + N) for k in range(1, L1 + 1)]

    results: dict[str, Any] = {"config": args}
    for method in ("traced", "full"):
        runs = [_measure(method, args) for _ in range(opts.repeats)]
        results[method] = {
            "median_s": statistics.median(r["seconds"] for r in runs),
            "all_s": [r["seconds"] for r in runs],
            "peak_mib": max(r["peak_mib"] for r in runs),
            "estimate_mib": runs[0]["estimate_mib"],
            "alignment": runs[0]["alignment"],
        }
        print(
            method,
            json.dumps({k: v for k, v in results[method].items() if k != "alignment"}),
            flush=True,
        )
    bf_methods = ["bf-traced"] + ([] if opts.skip_bf_full else ["bf-full"])
    if opts.skip_bf:
        bf_methods = []
    for method in bf_methods:
        per_layer = {}
        peak = 0.0
        for k in opts.bf_layers:
            r = _measure(method, args, [k])
            per_layer[k] = r["seconds"]
            peak = max(peak, r["peak_mib"])
            fast = results[method[3:]]["alignment"][k - 1]
            print(
                f"{method} layer {k}: {r['seconds']:.2f} s, peak "
                f"{r['peak_mib']:.0f} MiB, A = {r['alignment'][0]:.6f} "
                f"(fast: {fast:.6f})",
                flush=True,
            )
        # Extrapolate by parameter count from the measured hidden layer.
        hidden = [k for k in opts.bf_layers if 1 < k < L1]
        rate = per_layer[hidden[0]] / n_params[hidden[0] - 1]
        total = sum(per_layer.get(k, rate * n_params[k - 1]) for k in range(1, L1 + 1))
        results[method] = {
            "per_layer_s": per_layer,
            "extrapolated_all_s": total,
            "peak_mib": peak,
        }
        speed = total / results[method[3:]]["median_s"]
        print(
            f"{method}: all {L1} layers about {total:.0f} s (extrapolated); "
            f"speed-up of the structured kernel: {speed:.0f}x",
            flush=True,
        )
        results[method]["speedup"] = speed
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return figures_of(results)


if __name__ == "__main__":
    main()
