"""``sigprop validate`` and ``sigprop report``, in process (and one SIGINT)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sigprop.cli import main
from sigprop.validation import Sweep, SweepConfiguration

TINY = {
    "dataset": "gaussian_mixture", "dataset_params": {"n_samples": 400},
    "depth": 2, "width": 8, "probe_size": 20, "max_epochs": 2, "lr": 0.05,
    "device": "cpu", "num_threads": 1,
}


def _call(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _toml(tmp_path: Path, seeds: tuple[int, ...] = (0, 1)) -> Path:
    sw = Sweep("cli", [SweepConfiguration("relu", {"activation": "relu"})],
               base=TINY, grid={"seed": list(seeds)})
    p = tmp_path / "cli.toml"
    p.write_text(sw.to_toml())
    return p


def test_validate_runs_resumes_and_reports(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    code, text, err = _call("validate", "--sweep", str(_toml(tmp_path)), "--out",
                            str(out), "--no-progress")
    assert code == 0, err
    assert "2 runs, 0 already recorded, 2 run now (0 failed)" in text
    assert f"report: {out / 'report.md'}" in text
    assert len(list((out / "records").glob("*.json"))) == 2
    assert (out / "figures" / "alignment_relu.png").is_file()

    code, text, _ = _call("validate", "--sweep", str(_toml(tmp_path)), "--out",
                          str(out), "--no-progress", "--no-report")
    assert code == 0 and "2 already recorded, 0 run now" in text

    (out / "report.md").unlink()
    code, text, _ = _call("report", str(out), "--json")
    assert code == 0
    numbers = json.loads(text)
    assert numbers["sweep"] == "cli" and numbers["counts"]["ok"] == 2
    assert (out / "report.md").is_file()


def test_validate_smoke_profile(tmp_path: Path) -> None:
    code, text, err = _call("validate", "--profile", "smoke", "--out",
                            str(tmp_path / "o"), "--no-progress", "--no-report")
    assert code == 0, err
    assert "sweep smoke: 3 runs" in text


def test_unknown_key_in_sweep_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nname="x"\n[base]\nwidht=3\n'
                   '[[configurations]]\nlabel="a"\n')
    code, _, err = _call("validate", "--sweep", str(bad), "--out",
                         str(tmp_path / "o"))
    assert code == 2
    assert "unknown key(s) ['widht']" in err
    assert not (tmp_path / "o").exists()


def test_out_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "o"
    f.write_text("x")
    code, _, err = _call("validate", "--sweep", str(_toml(tmp_path)), "--out",
                         str(f), "--no-progress")
    assert code == 2 and "is a file" in err and "[StoreError]" in err
    assert f.read_text() == "x"


def test_out_of_another_sweep(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _call("validate", "--sweep", str(_toml(tmp_path, (0,))), "--out",
                 str(out), "--no-progress", "--no-report")[0] == 0
    code, _, err = _call("validate", "--profile", "smoke", "--out", str(out),
                         "--no-progress")
    assert code == 2 and "belongs to a different sweep ('cli'" in err


def test_unreachable_scheduler(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    t0 = time.perf_counter()
    code, _, err = _call("validate", "--sweep", str(_toml(tmp_path)), "--out",
                         str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9",
                         "--timeout", "1")
    assert time.perf_counter() - t0 < 15
    assert code == 2
    assert "could not reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("argv", "match"), [
    (["validate", "--out", "o"], "one of the arguments --profile --sweep"),
    (["validate", "--profile", "smoke", "--sweep", "s.toml", "--out", "o"],
     "not allowed with argument"),
    (["validate", "--profile", "huge", "--out", "o"], "invalid choice: 'huge'"),
    (["validate", "--profile", "smoke", "--out", "o", "--jobs", "0"],
     "must be >= 1; got 0"),
    (["validate", "--profile", "smoke", "--out", "o", "--jobs", "2",
      "--scheduler", "tcp://x:1"], "not allowed with argument"),
])
def test_usage_errors(argv: list[str], match: str) -> None:
    code, _, err = _call(*argv)
    assert code == 2 and match in err


def test_sigint_keeps_what_was_recorded(tmp_path: Path) -> None:
    toml = _toml(tmp_path, seeds=(0, 1, 2, 3, 4, 5))
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sigprop", "validate", "--sweep", str(toml), "--out",
         str(out), "--no-progress", "--no-report"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "records").glob("*.json")):
                break
            time.sleep(0.02)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"interrupted" in err
    done = list((out / "records").glob("*.json"))
    assert 1 <= len(done) < 6
    for p in done:
        json.loads(p.read_text())
    code, text, _ = _call("validate", "--sweep", str(toml), "--out", str(out),
                          "--no-progress", "--no-report")
    n = len(done)
    assert code == 0 and f"{n} already recorded, {6 - n} run now" in text


def test_cli_modules_import_no_heavy_packages() -> None:
    code = (
        "import sys, sigprop.cli, sigprop.cli.validate, sigprop.cli.report; "
        "sigprop.cli.build_parser(); "
        "heavy = [m for m in ('torch', 'dask', 'distributed', 'matplotlib') "
        "if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_validation_import_leaves_matplotlib_and_dask_out() -> None:
    code = (
        "import sys, sigprop.validation; "
        "heavy = [m for m in ('dask', 'distributed', 'matplotlib') "
        "if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
