"""``sigprop validate-run`` in-process."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from sigprop.cli import validate_run
from sigprop.validation import RunConfig, load_record

BASE = [
    "--dataset",
    "gaussian_mixture",
    "--depth",
    "3",
    "--width",
    "32",
    "--probe-size",
    "40",
    "--lr",
    "0.05",
    "--max-epochs",
    "20",
    "--device",
    "cpu",
    "--num-threads",
    "1",
]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sigprop")
    sub = parser.add_subparsers(dest="command")
    validate_run.add_parser(sub)
    return parser.parse_args([validate_run.NAME, *argv])


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = validate_run.run(_parse(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_writes_record_and_json_summary(tmp_path: Path) -> None:
    code, out, err = _run(
        [
            *BASE,
            "--out",
            str(tmp_path),
            "--json",
            "--no-include-bias",
            "--kernel",
            "traced",
        ]
    )
    assert code == validate_run.ExitCode.OK, err
    summary = json.loads(out)
    rec = load_record(summary["record"])
    assert rec.config["include_bias"] is False and rec.config["kernel"] == "traced"
    assert summary["measured_peak"] == rec.peak
    assert (
        Path(summary["record"]).name
        == RunConfig.from_dict(rec.config).config_hash() + ".json"
    )


def test_config_file_then_options_override(tmp_path: Path) -> None:
    cfg = RunConfig(
        dataset="gaussian_mixture",
        depth=4,
        width=16,
        probe_size=40,
        lr=0.05,
        max_epochs=2,
        device="cpu",
        seed=9,
        activation="leaky_relu",
        activation_params={"alpha": 0.3},
    )
    path = tmp_path / "run.toml"
    path.write_text(cfg.to_toml())
    code, out, err = _run(
        [
            "--config",
            str(path),
            "--depth",
            "2",
            "--activation-param",
            "alpha=0.2",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, err
    rec_path = next(tmp_path.glob("*.json"))
    rec = load_record(rec_path)
    assert rec.config["depth"] == 2 and rec.config["seed"] == 9
    assert rec.config["activation_params"] == {"alpha": 0.2}
    assert "measured peak layer" in out


def test_bad_value_is_an_error_on_stderr(tmp_path: Path) -> None:
    code, out, err = _run([*BASE, "--sigma-w2", "-1", "--out", str(tmp_path)])
    assert code == validate_run.ExitCode.ERROR
    assert "`sigma_w2` must be a finite number >= 0" in err and out == ""


def test_failed_run_has_its_own_exit_code(tmp_path: Path) -> None:
    code, out, err = _run([*BASE, "--lr", "80", "--out", str(tmp_path)])
    assert code == validate_run.ExitCode.RUN_FAILED
    assert "run failed" in err
    assert load_record(next(tmp_path.glob("*.json"))).status == "failed"
