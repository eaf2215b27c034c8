"""Benchmark of the mean-field core (issue 2's speed figures).

Run ``python benchmarks/bench_core.py [--repeats N] [--json]``; prints medians
of repeated runs:

* ``equilibrium`` for ReLU at its edge of chaos, depth 10^5;
* ``equilibrium`` for tanh on its edge of chaos (sigma_b2 = 0.05), depth 10^4;
* per-layer kernels for 200 inputs at depth 100 (ReLU closed form, tanh
  numeric), and the dataset-level equilibrium from them.

``main`` returns the figures as a dict (seconds), for ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

import sigprop as sp


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(
    repeats: int = 5, kernel_repeats: int = 3, n_inputs: int = 200
) -> dict[str, float]:
    """The core figures: medians of ``repeats`` (kernels: ``kernel_repeats``)."""
    relu = sp.MeanField("relu", 2.0, 0.0)
    sw = sp.edge_of_chaos("tanh", 0.05)
    tanh = sp.MeanField("tanh", sw, 0.05)
    _ = tanh.chi_1  # fixed point and slopes once, outside the timing
    x = np.random.default_rng(0).normal(size=(n_inputs, 50))
    r, k, n = repeats, kernel_repeats, n_inputs
    return {
        "relu_equilibrium_depth_1e5_s": median_time(
            lambda: relu.equilibrium(100_000), r
        ),
        "tanh_equilibrium_depth_1e4_s": median_time(
            lambda: tanh.equilibrium(10_000), r
        ),
        "tanh_edge_of_chaos_s": median_time(lambda: sp.edge_of_chaos("tanh", 0.05), r),
        f"relu_kernels_{n}x100_s": median_time(lambda: relu.kernels(x, 100), k),
        f"tanh_kernels_{n}x100_s": median_time(lambda: tanh.kernels(x, 100), k),
        f"tanh_data_equilibrium_{n}x100_s": median_time(
            lambda: tanh.equilibrium_for_data(x, 100), k
        ),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Parse ``argv`` (``--repeats``, ``--kernel-repeats``), measure, return."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--kernel-repeats", type=int, default=3)
    ap.add_argument("--n-inputs", type=int, default=200, help="inputs of the kernels")
    ap.add_argument("--json", action="store_true", help="also print JSON")
    opts = ap.parse_args(argv)
    return measure(opts.repeats, opts.kernel_repeats, opts.n_inputs)


if __name__ == "__main__":
    res = main(sys.argv[1:])
    machine = platform.processor() or platform.machine()
    print(f"# {machine}, Python {sys.version.split()[0]}")
    for key, value in res.items():
        print(f"{key:36s} {value:9.4f}")
    if "--json" in sys.argv:
        print(json.dumps(res))
