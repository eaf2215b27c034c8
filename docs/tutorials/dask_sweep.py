"""Tutorial: distribute a validation sweep on Dask.

Run it with ``python docs/tutorials/dask_sweep.py [--profile smoke]
[--out runs/dask-smoke] [--workers 2]``. It starts a ``LocalCluster`` on this
machine; the same code runs on a real cluster by passing the scheduler's
address instead (``DaskExecutor("tcp://host:8786")``, or ``sigprop validate
--scheduler tcp://host:8786`` on the command line). CI runs it with the
``smoke`` profile. Needs the ``validation`` extra (torch, dask.distributed).
"""

import argparse
from pathlib import Path

from sigprop.validation import DaskExecutor, load_sweep, run_sweep

if __name__ == "__main__":  # Dask's worker processes re-import this file
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke", help="smoke, quick or paper")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--workers", type=int, default=2)
    opts = ap.parse_args()
    out = opts.out if opts.out is not None else Path("runs") / f"dask-{opts.profile}"

    # A sweep is a grid of run configurations; look at it before running it.
    sweep = load_sweep(opts.profile)
    runs = sweep.runs()
    print(f"sweep {sweep.name}: {len(runs)} runs")
    for run in runs:
        print("  ", run.label, run.config.activation, "L =", run.config.depth)

    # Workers train and measure; the driver (this process) alone writes the
    # records, so the workers need no shared disk.
    with DaskExecutor.local(opts.workers) as executor:
        table = run_sweep(sweep, out, executor, progress=False)
        s = table.stats
        print(f"first call: ran {s.ran}, skipped {s.skipped}, failed {s.failed}")

        # Calling again finds every record and runs nothing.
        table = run_sweep(sweep, out, executor, progress=False)
        s = table.stats
        print(f"second call: ran {s.ran}, skipped {s.skipped}")

    for row in table.rows:
        print(
            f"{row['label']} L={row['depth']}: measured peak = {row['peak_argmax']}"
            f", l* (dataset) = {row['l_star_dataset']:.6f}"
        )
