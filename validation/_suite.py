"""``run_sweep``: run what a sweep's store is missing, keep every record.

The driver submits the missing runs to an executor, writes each record the
moment it comes back (atomically), and finally writes the summary table.
Killing it at any moment loses at most the runs in flight; the next call
skips every run already recorded.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ._executors import Executor, LocalExecutor
from ._runs import RunRecord
from ._store import SummaryTable, SweepStats, SweepStore, summary_row
from ._sweeps import Sweep, load_sweep

__all__ = ["run_sweep", "summary_table"]

logger = logging.getLogger(__name__)


class _Progress:
    """A tqdm bar when tqdm is installed and wanted; log lines otherwise."""

    def __init__(self, total: int, enabled: bool, desc: str) -> None:
        self.bar: Any = None
        if enabled and total:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                logger.info("tqdm is not installed: progress goes to the log only")
            else:
                self.bar = tqdm(total=total, desc=desc, unit="run", leave=True)

    def update(self, running: int, failed: int, errors: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix(running=running, failed=failed, errors=errors,
                                 refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path,
    executor: Executor | None = None,
    *,
    jobs: int = 1,
    progress: bool = True,
) -> SummaryTable:
    """Run every run of ``sweep`` that ``out`` does not hold yet.

    Parameters
    ----------
    sweep : Sweep, str or Path
        A sweep object, a TOML file, or a profile name (``"smoke"``,
        ``"quick"``, ``"paper"``).
    out : str or Path
        The sweep's output folder (created when absent; see
        :class:`SweepStore`).
    executor : Executor, optional
        Where runs execute. Default: ``LocalExecutor(jobs)``, closed at the
        end; an executor passed in is left open for the caller.
    jobs : int, default 1
        Worker processes of the default executor (1: this process).
    progress : bool, default True
        Show a progress bar (runs done, running, failed; tqdm's time left).

    Returns
    -------
    SummaryTable
        One row per run of the sweep, also written to ``OUT/summary.csv``
        (and ``OUT/summary.parquet`` when pyarrow is installed); ``.stats``
        counts what this call did.

    Notes
    -----
    A run that fails (diverged, NaN loss, out of memory) is a recorded result
    and is not run again. A run that raises instead (a bug, a lost worker)
    leaves no record: it is logged, shown as ``status="error"`` and tried
    again by the next call. A stored record that cannot be read is moved to
    ``OUT/corrupt/`` and redone, with a warning.
    """
    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    sw = load_sweep(sweep)
    store = SweepStore(out, sw)

    # What is there already, and what is missing.
    records: dict[str, RunRecord | None] = {}
    redone = 0
    for run in store.runs:
        h = run["config_hash"]
        had_file = store.record_path(h).exists()
        records[h] = store.load(h)
        redone += had_file and records[h] is None
    todo = [r for r in store.runs if records[r["config_hash"]] is None]
    skipped = len(store.runs) - len(todo)
    logger.info(
        "sweep %r: %d runs, %d recorded, %d to run (%d redone after a corrupt "
        "record)", sw.name, len(store.runs), skipped, len(todo), redone,
    )

    own = executor is None
    ex = LocalExecutor(jobs) if executor is None else executor
    errors: dict[str, str] = {}
    failed = ran = 0
    bar = _Progress(len(todo), progress, f"sweep {sw.name}")
    handles: dict[Any, dict[str, Any]] = {}
    interrupted = True
    try:
        if todo:
            logger.info("running %d runs on %s", len(todo), ex.description)
        for run in todo:
            handles[ex.submit(run["config"])] = run
        pending = list(handles)
        for h in ex.as_completed(list(pending)):
            run = handles[h]
            pending.remove(h)
            ch = run["config_hash"]
            try:
                rec = RunRecord.from_dict(ex.result(h))
            except Exception as exc:  # noqa: BLE001 - a run's error is data
                errors[ch] = f"{type(exc).__name__}: {exc}"
                logger.error("run %s (%s) raised %s", ch, run["label"], errors[ch],
                             exc_info=exc)
            else:
                store.save(rec)
                records[ch] = rec
                ran += 1
                failed += not rec.ok
                logger.info(
                    "run %s (%s, depth %s, seed %s): %s, peak %s", ch, run["label"],
                    run["config"].get("depth"), run["config"].get("seed"),
                    rec.status, rec.peak and rec.peak["argmax"],
                )
            bar.update(ex.running(pending), failed, len(errors))
        for h in pending:  # an executor that lost a run without a word
            run = handles[h]
            errors[run["config_hash"]] = "the executor returned no result"
            logger.error("run %s (%s): the executor returned no result",
                         run["config_hash"], run["label"])
        interrupted = False
    finally:
        bar.close()
        if interrupted:
            pending = [h for h in handles if not _done(h)]
            logger.warning(
                "sweep %r interrupted: %d runs recorded in this call, %d in flight "
                "or queued are lost and will run next time", sw.name, ran,
                len(pending),
            )
            ex.cancel(pending)
        if own:
            ex.close(cancel=interrupted)

    stats = SweepStats(
        total=len(store.runs), skipped=skipped, ran=ran, failed=failed,
        errors=len(errors), redone=redone, seconds=time.perf_counter() - t0,
    )
    store.note_session({
        "started": started, "seconds": stats.seconds, "skipped": skipped,
        "ran": ran, "failed": failed, "errors": len(errors), "redone": redone,
        "executor": ex.description, "sigprop": _version(),
    })
    table = SummaryTable(
        [summary_row(r, records[r["config_hash"]], errors.get(r["config_hash"]))
         for r in store.runs],
        stats,
    )
    table.write_csv(store.root / "summary.csv")
    table.write_parquet(store.root / "summary.parquet")
    logger.info("sweep %r done: %s", sw.name, stats)
    return table


def summary_table(out: str | Path) -> SummaryTable:
    """The summary table of a sweep folder, rebuilt from its records."""
    store = SweepStore(out)
    return SummaryTable([summary_row(r, rec) for r, rec in store.records()])


def _done(handle: Any) -> bool:
    done = getattr(handle, "done", None)
    if callable(done):
        return bool(done())
    return getattr(handle, "value", None) is not None


def _version() -> str:
    import sigprop

    return sigprop.__version__
