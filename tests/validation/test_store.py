"""The run store: keys, atomic writes, corrupt records, folders that do not fit."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from pathlib import Path

import pytest

import sigprop as sp
from sigprop.validation import (
    RunConfig,
    StoreError,
    SummaryTable,
    Sweep,
    SweepConfiguration,
    SweepStore,
    run_experiment,
)
from sigprop.validation._store import (
    SUMMARY_COLUMNS,
    atomic_write_text,
    record_key,
    summary_row,
)

TINY = {
    "dataset": "gaussian_mixture", "dataset_params": {"n_samples": 400},
    "depth": 2, "width": 8, "probe_size": 20, "max_epochs": 2, "lr": 0.05,
    "device": "cpu", "num_threads": 1,
}


def _sweep(name: str = "store", seeds: tuple[int, ...] = (0, 1)) -> Sweep:
    return Sweep(name, [SweepConfiguration("relu", {"activation": "relu"})],
                 base=TINY, grid={"seed": list(seeds)})


@pytest.fixture(scope="module")
def record():  # type: ignore[no-untyped-def]
    return run_experiment(_sweep().runs()[0].config)


def test_record_round_trip(tmp_path: Path, record) -> None:  # type: ignore[no-untyped-def]
    store = SweepStore(tmp_path / "out", _sweep())
    path = store.save(record)
    # Keyed by the configuration's hash and the version of sigprop.
    assert path.name == f"{record.config_hash}-v{sp.__version__}.json"
    assert record.config_hash == RunConfig.from_dict(record.config).config_hash()
    back = store.load(record.config_hash)
    assert back is not None
    assert back.to_dict() == record.to_dict()
    assert json.loads(path.read_text())["config"] == record.config


def test_record_key_sanitizes_versions() -> None:
    assert record_key("abc", "1.0+g12/x") == "abc-v1.0_g12_x"


def test_a_new_version_does_not_see_old_records(
    tmp_path: Path, record, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    store = SweepStore(tmp_path / "out", _sweep())
    store.save(record)
    monkeypatch.setattr(sp, "__version__", "99.0")
    assert store.load(record.config_hash) is None
    assert store.record_path(record.config_hash).name.endswith("-v99.0.json")


def test_corrupt_record_is_moved_aside_and_logged(
    tmp_path: Path, record, caplog  # type: ignore[no-untyped-def]
) -> None:
    store = SweepStore(tmp_path / "out", _sweep())
    path = store.save(record)
    truncated = path.read_text()[:200]
    path.write_text(truncated)  # a half-written file
    with caplog.at_level(logging.WARNING, logger="sigprop.validation"):
        assert store.load(record.config_hash) is None
    assert "is corrupt" in caplog.text and path.name in caplog.text
    assert not path.exists()
    (moved,) = (tmp_path / "out" / "corrupt").iterdir()
    assert moved.read_text() == truncated  # kept as evidence


def test_record_of_another_config_counts_as_corrupt(tmp_path: Path, record) -> None:  # type: ignore[no-untyped-def]
    store = SweepStore(tmp_path / "out", _sweep())
    other = _sweep().runs()[1].config_hash
    store.record_path(other).write_text(record.to_json())
    assert store.load(other) is None
    assert len(list((tmp_path / "out" / "corrupt").iterdir())) == 1


def test_out_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "out"
    f.write_text("not a folder")
    with pytest.raises(StoreError, match=r"`out` must be a folder; .* is a file"):
        SweepStore(f, _sweep())
    assert f.read_text() == "not a folder"


def test_out_of_a_different_sweep(tmp_path: Path, record) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    store = SweepStore(out, _sweep())
    store.save(record)
    before = sorted(p.name for p in out.rglob("*"))
    manifest = (out / "sweep.json").read_text()
    with pytest.raises(StoreError, match=r"belongs to a different sweep \('store'"):
        SweepStore(out, _sweep(seeds=(0, 1, 2)))
    with pytest.raises(StoreError, match=r"different sweep .* than this one \('b'"):
        SweepStore(out, _sweep(name="b"))
    assert sorted(p.name for p in out.rglob("*")) == before
    assert (out / "sweep.json").read_text() == manifest
    # The same sweep again is fine, and keeps its record.
    assert SweepStore(out, _sweep()).load(record.config_hash) is not None


def test_non_empty_folder_without_a_sweep(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"non-empty folder that holds no sweep"):
        SweepStore(tmp_path, _sweep())
    with pytest.raises(StoreError, match=r"holds no sweep \(no sweep.json\)"):
        SweepStore(tmp_path)


def test_unreadable_manifest(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text("{")
    with pytest.raises(StoreError, match=r"not a readable sweep manifest"):
        SweepStore(tmp_path, _sweep())


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "out", _sweep())
    stale = store.records_dir / ".tmp-abc.json"
    stale.write_text('{"half": ')
    SweepStore(tmp_path / "out", _sweep())
    assert not stale.exists()


def test_atomic_write_leaves_target_or_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "r.json"
    atomic_write_text(target, "old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_summary_table_csv_and_parquet(tmp_path: Path, record, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run = {"label": "relu", "config_hash": record.config_hash, "on_eoc": True,
           "phase": "edge", "config": record.config}
    missing = {**run, "config_hash": "0" * 16}
    table = SummaryTable([summary_row(run, record), summary_row(missing, None)])
    assert table.column("status") == ["ok", "missing"]
    with pytest.raises(KeyError, match="no column 'nope'"):
        table.column("nope")
    table.write_csv(tmp_path / "s.csv")
    with open(tmp_path / "s.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    last = record.checkpoints[-1]
    assert int(rows[0]["peak_argmax"]) == record.peak["argmax"]
    assert float(rows[0]["test_accuracy"]) == last.test_accuracy
    assert float(rows[0]["l_star_dataset"]) == record.prediction["dataset"]["layer"]
    assert rows[1]["peak_argmax"] == "" and rows[1]["status"] == "missing"

    pq = pytest.importorskip("pyarrow.parquet")
    assert table.write_parquet(tmp_path / "s.parquet") is not None
    back = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert back[0]["peak_argmax"] == record.peak["argmax"]
    assert back[1]["peak_argmax"] is None
    # Without pyarrow: CSV only, no error.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert table.write_parquet(tmp_path / "t.parquet") is None
    assert not (tmp_path / "t.parquet").exists()
