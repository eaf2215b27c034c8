"""Executors and resume: in process, a process pool, Dask, a killed sweep."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sigprop.validation import (
    DaskExecutor,
    LocalExecutor,
    SchedulerUnreachableError,
    Sweep,
    SweepConfiguration,
    SweepError,
    run_sweep,
)

TINY = {
    "dataset": "gaussian_mixture", "dataset_params": {"n_samples": 400},
    "depth": 2, "width": 8, "probe_size": 20, "max_epochs": 2, "lr": 0.05,
    "device": "cpu", "num_threads": 1,
}


def _sweep(seeds: tuple[int, ...] = (0, 1), name: str = "exec") -> Sweep:
    return Sweep(name, [SweepConfiguration("relu", {"activation": "relu"})],
                 base=TINY, grid={"seed": list(seeds)})


def _records(out: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text())
            for p in sorted((out / "records").glob("*.json"))}


def _comparable(rec: dict) -> dict:
    # Everything but wall-clock timings and per-process facts.
    drop = {"timings", "versions", "threads"}
    out = {k: v for k, v in rec.items() if k not in drop}
    out["checkpoints"] = [{k: v for k, v in c.items() if k != "seconds"}
                          for c in rec["checkpoints"]]
    out["prediction"] = {k: v for k, v in rec["prediction"].items() if k != "seconds"}
    return out


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("inproc") / "out"
    table = run_sweep(_sweep(), out, progress=False)
    return out, table


def test_in_process_sweep_and_rerun(in_process) -> None:  # type: ignore[no-untyped-def]
    out, table = in_process
    assert (table.stats.total, table.stats.ran, table.stats.skipped) == (2, 2, 0)
    recs = _records(out)
    assert len(recs) == 2 and table.column("status") == ["ok", "ok"]
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "records").iterdir()}
    again = run_sweep(_sweep(), out, progress=False)
    assert (again.stats.ran, again.stats.skipped) == (0, 2)
    assert {p: p.stat().st_mtime_ns for p in (out / "records").iterdir()} == mtimes
    assert again.rows == table.rows
    assert (out / "summary.csv").is_file()


def test_corrupt_record_is_redone(in_process, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    src, _ = in_process
    out = tmp_path / "out"
    run_sweep(_sweep(), out, progress=False)
    victim = sorted((out / "records").glob("*.json"))[0]
    good = victim.read_text()
    victim.write_text(good[: len(good) // 2])
    table = run_sweep(_sweep(), out, progress=False)
    assert (table.stats.redone, table.stats.ran, table.stats.skipped) == (1, 1, 1)
    assert "is corrupt" in caplog.text
    assert _comparable(json.loads(victim.read_text())) == _comparable(json.loads(good))


def test_process_pool_gives_the_same_records(in_process, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref, _ = in_process
    out = tmp_path / "pool"
    with LocalExecutor(jobs=2) as ex:
        table = run_sweep(_sweep(), out, executor=ex, progress=False)
    assert table.stats.ran == 2
    a, b = _records(ref), _records(out)
    assert a.keys() == b.keys()
    for k in a:
        assert _comparable(a[k]) == _comparable(b[k])


def test_dask_local_cluster_gives_the_same_records(in_process, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("dask.distributed")
    ref, _ = in_process
    out = tmp_path / "dask"
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            ex = DaskExecutor(client=client)
            table = run_sweep(_sweep(), out, executor=ex, progress=False)
            ex.close()
            # A client passed in stays the caller's.
            assert client.status == "running"
    finally:
        cluster.close()
    assert table.stats.ran == 2 and table.stats.errors == 0
    a, b = _records(ref), _records(out)
    assert a.keys() == b.keys()
    for k in a:
        assert _comparable(a[k]) == _comparable(b[k])


def test_unreachable_scheduler_names_the_address() -> None:
    pytest.importorskip("dask.distributed")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with pytest.raises(SchedulerUnreachableError,
                       match=rf"Dask scheduler at '{address}' within 1 s"):
        DaskExecutor(address, timeout=1.0)
    assert time.perf_counter() - t0 < 15


def test_bad_executor_arguments() -> None:
    with pytest.raises(Exception, match=r"`jobs` must be an integer >= 1; got 0"):
        LocalExecutor(0)
    with pytest.raises(Exception, match=r"`timeout` must be a number > 0"):
        DaskExecutor("tcp://127.0.0.1:1", timeout=0)


def test_a_run_that_raises_is_not_recorded(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    # Data that is not on disk: run_experiment raises (a DataNotFoundError) in
    # the worker; the sweep goes on, shows the error and tries again next time.
    sw = Sweep("err", [
        SweepConfiguration("ok", {"activation": "relu"}),
        SweepConfiguration("nodata", {"dataset": "mnist", "dataset_params": {},
                                      "data_root": str(tmp_path / "none")}),
    ], base=TINY)
    out = tmp_path / "out"
    table = run_sweep(sw, out, progress=False)
    assert table.stats.errors == 1 and table.stats.ran == 1
    row = table.rows[1]
    assert row["status"] == "error" and "DataNotFoundError" in row["failure"]
    assert len(list((out / "records").glob("*.json"))) == 1
    assert "raised DataNotFoundError" in caplog.text
    again = run_sweep(sw, out, progress=False)
    assert (again.stats.skipped, again.stats.errors) == (1, 1)


def test_bad_sweep_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nname="x"\nfoo=1\n')
    with pytest.raises(SweepError, match=r"unknown key\(s\) \['foo'\]"):
        run_sweep(bad, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


_DRIVER = textwrap.dedent("""
    import sys
    from sigprop.validation import run_sweep
    run_sweep(sys.argv[1], sys.argv[2], progress=False)
""")


def test_resume_after_sigkill(tmp_path: Path) -> None:
    # A sweep of 4 runs in a child process (which runs them itself, so killing
    # it kills the worker); SIGKILL it as soon as the first record lands.
    sweep = _sweep(seeds=(0, 1, 2, 3), name="kill")
    toml = tmp_path / "kill.toml"
    toml.write_text(sweep.to_toml())
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER, str(toml), str(out)],
                            env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "records").glob("*.json")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    first = _records(out)  # every file there parses: no half-written record
    assert 1 <= len(first) < 4
    before = {n: (out / "records" / n).read_bytes() for n in first}

    table = run_sweep(toml, out, progress=False)
    assert table.stats.skipped == len(first)
    assert table.stats.ran == 4 - len(first)
    after = _records(out)
    assert len(after) == 4
    assert {r["config_hash"] for r in after.values()} == {
        r.config_hash for r in sweep.runs()
    }
    for n, blob in before.items():  # nothing repeated: the old records stand
        assert (out / "records" / n).read_bytes() == blob
    assert not list(out.rglob(".tmp-*"))
    assert table.column("status") == ["ok"] * 4


def test_dask_local_executor_starts_and_shuts_its_cluster(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    ex = DaskExecutor.local(1, processes=False)
    cluster = ex._cluster
    try:
        assert "Dask at" in ex.description
        table = run_sweep(_sweep(seeds=(0,), name="dl"), tmp_path / "o",
                          executor=ex, progress=False)
        assert table.stats.ran == 1
    finally:
        ex.close()
    assert cluster.status.name == "closed"
    assert ex.client is None


def test_progress_bar_on_off_and_without_tqdm(
    tmp_path: Path, capsys, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    pytest.importorskip("tqdm")
    run_sweep(_sweep(seeds=(0,), name="p1"), tmp_path / "a", progress=True)
    assert "sweep p1" in capsys.readouterr().err
    run_sweep(_sweep(seeds=(0,), name="p2"), tmp_path / "b", progress=False)
    assert "sweep p2" not in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    table = run_sweep(_sweep(seeds=(0,), name="p3"), tmp_path / "c", progress=True)
    assert table.stats.ran == 1 and "sweep p3" not in capsys.readouterr().err
