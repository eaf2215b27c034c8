"""Benchmark of the mean-field core (issue 2's speed figures).

Run ``python benchmarks/bench_core.py``; prints medians of repeated runs:

* ``equilibrium`` for ReLU at its edge of chaos, depth 10^5;
* ``equilibrium`` for tanh on its edge of chaos (sigma_b2 = 0.05), depth 10^4;
* per-layer kernels for 200 inputs at depth 100 (ReLU closed form, tanh
  numeric), and the dataset-level equilibrium from them.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

import sigprop as sp


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> dict[str, float]:
    relu = sp.MeanField("relu", 2.0, 0.0)
    sw = sp.edge_of_chaos("tanh", 0.05)
    tanh = sp.MeanField("tanh", sw, 0.05)
    _ = tanh.chi_1  # fixed point and slopes once, outside the timing
    x = np.random.default_rng(0).normal(size=(200, 50))
    results = {
        "relu_equilibrium_depth_1e5_s": median_time(lambda: relu.equilibrium(100_000)),
        "tanh_equilibrium_depth_1e4_s": median_time(lambda: tanh.equilibrium(10_000)),
        "tanh_edge_of_chaos_s": median_time(lambda: sp.edge_of_chaos("tanh", 0.05)),
        "relu_kernels_200x100_s": median_time(lambda: relu.kernels(x, 100), 3),
        "tanh_kernels_200x100_s": median_time(lambda: tanh.kernels(x, 100), 3),
        "tanh_data_equilibrium_200x100_s": median_time(
            lambda: tanh.equilibrium_for_data(x, 100), 3
        ),
    }
    return results


if __name__ == "__main__":
    res = main()
    machine = platform.processor() or platform.machine()
    print(f"# {machine}, Python {sys.version.split()[0]}")
    for key, value in res.items():
        print(f"{key:36s} {value:9.4f}")
    if "--json" in sys.argv:
        print(json.dumps(res))
