"""Closed-form maps against quadrature over 1e6 points (medians of 5 runs).

Run: ``python benchmarks/bench_closed_forms.py``. The closed form is the
:mod:`sigprop.symbolic` expression compiled once with numpy; the quadrature is
the core's numeric engine (Mehler series for erf, kink-aware two-dimensional
Gauss-Legendre for ReLU) forced on the same activation. The two-dimensional
quadrature is too slow for 1e6 ReLU points in a benchmark run: it is timed on
the first ``QUAD_N[name]`` points and scaled linearly (it is vectorized in
chunks, so its cost is linear in the number of points); the output says so.
``main(argv)`` (``--repeats N``) returns the figures as a dict, for
``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import numpy as np

import sigprop as sp
from sigprop import symbolic as sy
from sigprop.gaussian import GaussianExpectations

N = 1_000_000
REPEAT = 5
QUAD_N = {"relu": 2_000, "erf": N}


def _median(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=REPEAT)
    opts = ap.parse_args(argv)
    figures: dict[str, float] = {}
    rng = np.random.default_rng(0)
    cs = rng.uniform(-1, 1, N)
    for name, qv, sw, sb in (("relu", 1.0, 2.0, 0.0), ("erf", 0.8, 1.4, 0.05)):
        cf = sy.closed_form(name)
        fmap = cf.c_map_fn()
        closed = _median(lambda: fmap(cs, qv, sw, sb), opts.repeats)  # noqa: B023
        g = GaussianExpectations(sp.activation(name))
        g._closed = None
        g.engine = "numeric"
        m = QUAD_N[name]
        qq, cm = np.full(m, qv), cs[:m]

        def quad() -> np.ndarray:
            return (sw * g.e_phiphi(qq, qq, qv * cm) + sb) / qv  # noqa: B023

        numeric = _median(quad, opts.repeats) * (N / m)
        diff = np.max(np.abs(fmap(cm, qv, sw, sb) - quad()))
        scaled = "" if m == N else f" (timed on {m} points, scaled)"
        print(
            f"{name:5s} c-map over 1e6 points: closed form {closed * 1e3:8.1f} ms, "
            f"quadrature {numeric * 1e3:9.1f} ms, ratio {numeric / closed:7.1f}x, "
            f"max |diff| {diff:.1e}{scaled}"
        )
        figures[f"{name}_c_map_1e6_closed_form_ms"] = closed * 1e3
        figures[f"{name}_c_map_1e6_quadrature_ms"] = numeric * 1e3
        figures[f"{name}_closed_form_speedup_x"] = numeric / closed
    return figures


if __name__ == "__main__":
    main()
