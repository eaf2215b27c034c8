"""sigprop's benchmarks, run together by ``python -m benchmarks``.

Each ``bench_*.py`` module is also a script of its own and exposes
``main(argv) -> dict`` returning its figures (seconds, MiB, layers or
speed-ups, the unit in the name's suffix); each figure is itself a median of
several runs where the module repeats it. :data:`BENCHMARKS` lists them with
the arguments of a full and of a ``--quick`` run and what each needs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Benchmark", "BENCHMARKS"]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark module and how the harness runs it.

    Attributes
    ----------
    name : str
        Short name used in the table and by ``--only``.
    module : str
        Module under ``benchmarks`` with a ``main(argv) -> dict``.
    full, quick : tuple of str
        ``argv`` of a full and of a quick run.
    needs : tuple of str
        ``"torch"`` (the validation extra and its packaged data) and/or
        ``"cuda"``; the harness skips the benchmark with the reason when a
        need is not met.
    """

    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    needs: tuple[str, ...] = ()


BENCHMARKS = (
    Benchmark(
        "core",
        "bench_core",
        full=("--repeats", "5", "--kernel-repeats", "3"),
        quick=("--repeats", "1", "--kernel-repeats", "1", "--n-inputs", "40"),
    ),
    Benchmark(
        "phase",
        "bench_phase",
        # the naive loop costs about 2 s a point on two shared cores: 100
        # sampled points (the module's default is 300) keep it under 4 minutes
        full=("--repeats", "3", "--sample", "100"),
        quick=("--repeats", "1", "--sample", "3", "--grid", "48", "--skip-big"),
    ),
    Benchmark(
        "closed_forms",
        "bench_closed_forms",
        full=("--repeats", "5"),
        quick=("--repeats", "1"),
    ),
    Benchmark(
        "validation_kernels",
        "bench_validation_kernels",
        # the brute-force Jacobians are run on layers 2 and 51 only (about a
        # minute each on two cores) and extrapolated, as in their module
        full=("--repeats", "3", "--bf-layers", "2", "51"),
        quick=("--repeats", "1", "--depth", "10", "--n", "200", "--skip-bf"),
        needs=("torch",),
    ),
    Benchmark(
        "validation_run",
        "bench_validation_run",
        full=("--threads", "1", "--quiet"),
        quick=("--threads", "1", "--quiet", "--depth", "5", "--stop-loss", "0.5"),
        needs=("torch",),
    ),
    Benchmark(
        "validation_gpu",
        "bench_validation_gpu",
        full=("--repeats", "3"),
        quick=("--repeats", "1"),
        needs=("torch", "cuda"),
    ),
)
