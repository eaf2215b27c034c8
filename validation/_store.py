"""The run store of a sweep: one folder, one atomic JSON record per run.

Layout of an output folder ``OUT``::

    OUT/sweep.json                        the sweep and its expanded runs
    OUT/records/<config hash>-v<version>.json   one record per run
    OUT/corrupt/                          records that could not be read
    OUT/summary.csv, OUT/summary.parquet  one row per run
    OUT/report.md, OUT/figures/           :func:`build_report`

A record is keyed by the hash of its full configuration and by the version
of sigprop that produced it (the measurement code lives in sigprop), so a new
version reruns everything without touching the old records. Records are
written to a temporary file in the same folder and renamed over the target:
a reader, or a sweep killed at any moment, never sees half a record.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sigprop as sp
from sigprop._errors import SigpropError

from ._io import TMP_PREFIX, atomic_write_text
from ._runs import RunRecord
from ._sweeps import Sweep, SweepRun

__all__ = [
    "SweepStore",
    "StoreError",
    "SummaryTable",
    "SweepStats",
    "SUMMARY_COLUMNS",
    "record_key",
    "atomic_write_text",
]

logger = logging.getLogger(__name__)

MANIFEST = "sweep.json"


class StoreError(SigpropError, ValueError):
    """An output folder that cannot hold this sweep (a file, another sweep)."""


def record_key(config_hash: str, version: str | None = None) -> str:
    """File stem of a record: ``<config hash>-v<sigprop version>``."""
    v = sp.__version__ if version is None else version
    return f"{config_hash}-v{re.sub(r'[^A-Za-z0-9._-]', '_', v)}"


class SweepStore:
    """The output folder of one sweep.

    Parameters
    ----------
    out : str or Path
        The folder. Created when absent. It must not be a file, and a folder
        that already holds a sweep must hold this one.
    sweep : Sweep, optional
        The sweep to store. Without it the folder must already hold a sweep
        (as for :func:`build_report`).

    Raises
    ------
    StoreError
        When ``out`` is a file, holds a different sweep, or is a non-empty
        folder that holds no sweep.
    """

    def __init__(self, out: str | Path, sweep: Sweep | None = None) -> None:
        self.root = Path(out)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(
                f"`out` must be a folder; {str(self.root)!r} is a file. Choose a "
                "new folder name."
            )
        manifest_path = self.root / MANIFEST
        existing: dict[str, Any] | None = None
        if manifest_path.exists():
            try:
                existing = json.loads(manifest_path.read_text())
                existing["fingerprint"]  # noqa: B018 - checks the key exists
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(
                    f"{str(manifest_path)!r} is not a readable sweep manifest "
                    f"({exc}); move it away or choose another `out`."
                ) from exc
        if sweep is None:
            if existing is None:
                raise StoreError(
                    f"{str(self.root)!r} holds no sweep (no {MANIFEST}); run "
                    "`sigprop validate --out` on it first."
                )
            self.manifest = existing
            return
        fp = sweep.fingerprint()
        if existing is not None and existing["fingerprint"] != fp:
            raise StoreError(
                f"`out` {str(self.root)!r} belongs to a different sweep "
                f"({existing.get('name')!r}, fingerprint {existing['fingerprint']}) "
                f"than this one ({sweep.name!r}, fingerprint {fp}); choose "
                "another folder, or delete that one to start over."
            )
        if existing is None and self.root.exists() and any(
            p.name != ".DS_Store" for p in self.root.iterdir()
        ):
            raise StoreError(
                f"`out` {str(self.root)!r} is a non-empty folder that holds no "
                f"sweep (no {MANIFEST}); choose an empty or new folder."
            )
        self.manifest = existing if existing is not None else _manifest(sweep)
        if existing is None:
            atomic_write_text(manifest_path, json.dumps(self.manifest, indent=1))
        self.records_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temporaries()

    # -- layout ----------------------------------------------------------------

    @property
    def records_dir(self) -> Path:
        """``OUT/records``."""
        return self.root / "records"

    @property
    def runs(self) -> list[dict[str, Any]]:
        """The manifest's runs: ``label``, ``config_hash``, ``on_eoc``,
        ``phase``, ``config``."""
        return list(self.manifest["runs"])

    def record_path(self, config_hash: str) -> Path:
        """Where the record of a configuration (this sigprop version) lives."""
        return self.records_dir / f"{record_key(config_hash)}.json"

    def _remove_stale_temporaries(self) -> None:
        # A process killed inside atomic_write_text leaves its temporary file;
        # it was never a record, so removing it loses nothing.
        for folder in (self.root, self.records_dir):
            for p in folder.glob(f"{TMP_PREFIX}*"):
                logger.info("removing the unfinished temporary file %s", p)
                p.unlink(missing_ok=True)

    # -- records ---------------------------------------------------------------

    def load(self, config_hash: str) -> RunRecord | None:
        """The stored record of a configuration, or None.

        A record that cannot be read, or that belongs to another
        configuration, is moved to ``OUT/corrupt/`` with a warning and None
        is returned, so that the run is redone.
        """
        path = self.record_path(config_hash)
        if not path.exists():
            return None
        try:
            record = RunRecord.from_dict(json.loads(path.read_text()))
            if record.config_hash != config_hash:
                raise ValueError(
                    f"it holds configuration {record.config_hash}"
                )
        except (ValueError, KeyError, TypeError) as exc:
            dest = self.root / "corrupt" / f"{path.stem}.{time.time_ns()}.json"
            dest.parent.mkdir(exist_ok=True)
            os.replace(path, dest)
            logger.warning(
                "record %s is corrupt (%s: %s); moved to %s, the run will be "
                "redone", path.name, type(exc).__name__, exc, dest,
            )
            return None
        return record

    def save(self, record: RunRecord) -> Path:
        """Write a record atomically; return its path."""
        return atomic_write_text(
            self.record_path(record.config_hash), record.to_json(indent=1)
        )

    def records(self) -> Iterator[tuple[dict[str, Any], RunRecord | None]]:
        """``(manifest run, record or None)`` for every run of the sweep."""
        for run in self.runs:
            yield run, self.load(run["config_hash"])

    def note_session(self, info: dict[str, Any]) -> None:
        """Append a sweep session (start, end, counts) to the manifest."""
        self.manifest.setdefault("sessions", []).append(info)
        atomic_write_text(self.root / MANIFEST, json.dumps(self.manifest, indent=1))


def _manifest(sweep: Sweep) -> dict[str, Any]:
    return {
        "format": 1,
        "name": sweep.name,
        "description": sweep.description,
        "fingerprint": sweep.fingerprint(),
        "sweep": sweep.to_dict(),
        "runs": [_run_entry(r) for r in sweep.runs()],
        "sessions": [],
    }


def _run_entry(run: SweepRun) -> dict[str, Any]:
    return {
        "label": run.label,
        "config_hash": run.config_hash,
        "on_eoc": run.on_eoc,
        "phase": run.phase,
        "config": run.config.to_dict(),
    }


# -- summary table ----------------------------------------------------------------

#: Columns of the summary table, in order.
SUMMARY_COLUMNS = (
    "label", "config_hash", "record", "status", "failure_kind", "failure",
    "activation", "sigma_w2", "sigma_b2", "on_eoc", "phase", "depth", "width",
    "seed", "dataset", "optimizer", "lr", "stopped_by", "epochs", "steps",
    "peak_argmax", "peak_first_within_margin", "peak_smoothed", "max_alignment",
    "l_star_dataset", "l_star_dataset_boundary", "l_star_scalar",
    "l_star_scalar_boundary", "c0", "train_accuracy", "test_accuracy",
    "init_peak_argmax", "seconds",
)


@dataclass(frozen=True)
class SweepStats:
    """What one :func:`run_sweep` call did.

    Attributes
    ----------
    total : int
        Runs in the sweep.
    skipped : int
        Already recorded, not run again.
    ran : int
        Run in this call (including failed runs).
    failed : int
        Runs of this call that ended with ``status="failed"`` (a result).
    errors : int
        Runs that raised instead of producing a record (not stored; a re-run
        tries them again).
    redone : int
        Runs whose stored record was corrupt.
    seconds : float
        Wall time of the call.
    """

    total: int = 0
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    errors: int = 0
    redone: int = 0
    seconds: float = 0.0


class SummaryTable:
    """One row per run of a sweep (plain Python, pandas on request).

    Attributes
    ----------
    rows : list of dict
        Keys :data:`SUMMARY_COLUMNS`.
    stats : SweepStats
        Counts of the call that produced the table.
    """

    def __init__(
        self, rows: Sequence[dict[str, Any]], stats: SweepStats | None = None
    ) -> None:
        self.rows = [dict(r) for r in rows]
        self.stats = stats if stats is not None else SweepStats(total=len(self.rows))

    columns = SUMMARY_COLUMNS

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"SummaryTable({len(self)} runs, {self.stats})"

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        if name not in SUMMARY_COLUMNS:
            raise KeyError(
                f"no column {name!r}; the columns are {list(SUMMARY_COLUMNS)}"
            )
        return [r.get(name) for r in self.rows]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(SUMMARY_COLUMNS))

    def write_csv(self, path: str | Path) -> Path:
        """Write the table as CSV (atomically)."""
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow(
                {k: "" if r.get(k) is None else r.get(k) for k in SUMMARY_COLUMNS}
            )
        return atomic_write_text(path, buf.getvalue())

    def write_parquet(self, path: str | Path) -> Path | None:
        """Write the table as Parquet when pyarrow is installed; else None."""
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            logger.info("pyarrow is not installed: no Parquet summary")
            return None
        target = Path(path)
        tmp = target.with_name(f"{TMP_PREFIX}{target.name}")
        table = pa.Table.from_pylist(
            [{k: r.get(k) for k in SUMMARY_COLUMNS} for r in self.rows],
            schema=_arrow_schema(pa),
        )
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return target


def _arrow_schema(pa: Any) -> Any:
    ints = {"depth", "width", "seed", "steps", "peak_argmax",
            "peak_first_within_margin", "peak_smoothed", "init_peak_argmax"}
    bools = {"on_eoc", "l_star_dataset_boundary", "l_star_scalar_boundary"}
    floats = {"sigma_w2", "sigma_b2", "lr", "epochs", "max_alignment",
              "l_star_dataset", "l_star_scalar", "c0", "train_accuracy",
              "test_accuracy", "seconds"}

    def kind(name: str) -> Any:
        if name in ints:
            return pa.int64()
        if name in bools:
            return pa.bool_()
        if name in floats:
            return pa.float64()
        return pa.string()

    return pa.schema([(n, kind(n)) for n in SUMMARY_COLUMNS])


def summary_row(
    run: dict[str, Any], record: RunRecord | None, error: str | None = None
) -> dict[str, Any]:
    """One row of the summary table, from a manifest run and its record."""
    cfg = run["config"]
    row: dict[str, Any] = {k: None for k in SUMMARY_COLUMNS}
    row.update(
        label=run["label"], config_hash=run["config_hash"], on_eoc=run["on_eoc"],
        phase=run["phase"], activation=cfg.get("activation", "relu"),
        sigma_w2=cfg.get("sigma_w2", 2.0), sigma_b2=cfg.get("sigma_b2", 0.0),
        depth=cfg.get("depth", 20), width=cfg.get("width", 256),
        seed=cfg.get("seed", 0), dataset=cfg.get("dataset", "mnist5k"),
        optimizer=cfg.get("optimizer", "sgd"), lr=cfg.get("lr", 4e-3),
    )
    if record is None:
        row["status"] = "error" if error else "missing"
        row["failure"] = error
        return row
    version = record.versions.get("sigprop")
    row["record"] = f"records/{record_key(record.config_hash, version)}.json"
    row["status"] = record.status
    if record.failure:
        row["failure_kind"] = record.failure.get("kind")
        row["failure"] = record.failure.get("reason")
    row["stopped_by"] = record.stopped_by
    last = record.checkpoints[-1] if record.checkpoints else None
    if last is not None:
        row.update(epochs=last.epoch, steps=last.step,
                   train_accuracy=last.train_accuracy,
                   test_accuracy=last.test_accuracy)
    if record.peak:
        row.update(
            peak_argmax=record.peak["argmax"],
            peak_first_within_margin=record.peak["first_within_margin"],
            peak_smoothed=record.peak["smoothed"],
            max_alignment=record.peak["max_alignment"],
        )
    first = record.checkpoints[0] if record.checkpoints else None
    if first is not None and first.peak:
        row["init_peak_argmax"] = first.peak["argmax"]
    for which in ("dataset", "scalar"):
        pred = record.prediction.get(which) or {}
        row[f"l_star_{which}"] = pred.get("layer")
        b = pred.get("boundary")
        row[f"l_star_{which}_boundary"] = None if "layer" not in pred else bool(b)
    row["c0"] = record.prediction.get("c0")
    row["seconds"] = record.timings.get("total")
    return row
