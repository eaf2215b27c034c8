"""Benchmark of sigprop.phase_diagram (issue 4).

1. A 256 x 256 tanh grid at depth 100 (sigma_w2 in [0.5, 4], sigma_b2 in
   [0, 0.3]): median wall time of a few runs.
2. The naive loop (one MeanField and one equilibrium per point) timed on a
   random subsample of the same grid and extrapolated to all 65536 points: the
   full loop would take minutes, so it is not run.
3. Peak traced memory (tracemalloc) of a 1024 x 1024 grid for relu at depth
   100 (closed-form maps: the same block structure, minutes faster than tanh),
   and of a 256 x 256 tanh grid at depth 100 for comparison.

Run: python benchmarks/bench_phase.py [--repeats N] [--sample N] [--skip-big]

``main(argv)`` prints the lines above and returns the figures as a dict, for
``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np

import sigprop as sp
from sigprop.phase import _ARRAYS


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(0.5, 4.0, n), np.linspace(0.0, 0.3, n)


def _naive_point(sw: float, sb: float, depth: int) -> None:
    try:
        mf = sp.MeanField("tanh", sw, sb)
        mf.q_star, mf.c_star, mf.chi_q, mf.xi_c  # noqa: B018 - evaluated for timing
        mf.equilibrium(depth)
    except sp.SigpropError:
        pass


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--grid", type=int, default=256, help="tanh grid side")
    args = ap.parse_args(argv)
    g = args.grid
    print(f"cores visible: {os.cpu_count()}")
    figures: dict[str, float] = {}

    sw, sb = _grid(g)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        sp.phase_diagram("tanh", sw, sb, depth=100)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    figures[f"tanh_{g}x{g}_depth100_median_s"] = med
    print(
        f"phase_diagram tanh {g}x{g} depth 100: median {med:.2f} s over "
        f"{args.repeats} runs (min {min(times):.2f}, max {max(times):.2f})"
    )

    rng = np.random.default_rng(0)
    ib = rng.integers(0, sb.size, args.sample)
    iw = rng.integers(0, sw.size, args.sample)
    t = time.perf_counter()
    for i, j in zip(ib, iw, strict=True):
        _naive_point(float(sw[j]), float(sb[i]), 100)
    per_point = (time.perf_counter() - t) / args.sample
    naive = per_point * sw.size * sb.size
    figures["naive_loop_per_point_ms"] = per_point * 1e3
    figures[f"naive_loop_{sw.size * sb.size}_extrapolated_s"] = naive
    figures["vectorized_speedup_x"] = naive / med
    print(
        f"naive MeanField loop: {per_point * 1e3:.2f} ms per point on a random "
        f"sample of {args.sample}; extrapolated to {sw.size * sb.size} points: "
        f"{naive:.0f} s "
        f"(speed-up of the vectorized grid: {naive / med:.0f}x, extrapolated)"
    )

    cases = [("tanh", g)] + ([] if args.skip_big else [("relu", 1024)])
    for name, n in cases:
        sw, sb = _grid(n)
        tracemalloc.start()
        t = time.perf_counter()
        pd = sp.phase_diagram(name, sw, sb, depth=100)
        wall = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = sum(np.asarray(getattr(pd, f)).nbytes for f in _ARRAYS)
        figures[f"{name}_{n}x{n}_depth100_traced_wall_s"] = wall
        figures[f"{name}_{n}x{n}_depth100_peak_mib"] = peak / 2**20
        print(
            f"{name} {n}x{n} depth 100: {wall:.1f} s, peak traced memory "
            f"{peak / 2**20:.0f} MiB (of which the result arrays {result / 2**20:.0f} "
            "MiB)"
        )
    return figures


if __name__ == "__main__":
    main()
