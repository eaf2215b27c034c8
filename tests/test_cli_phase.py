"""``sigprop phase-diagram`` and ``sigprop equilibrium --plot``, in process."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from sigprop.cli import main  # noqa: E402
from sigprop.phase import load_phase_diagram, phase_diagram  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_phase_diagram_writes_figure_and_data(tmp_path):
    png, npz = tmp_path / "pd.png", tmp_path / "pd.npz"
    code, out, err = _run(
        "phase-diagram",
        "tanh",
        "--depth",
        "10",
        "--grid",
        "5",
        "--out",
        str(png),
        "--data",
        str(npz),
        "--json",
    )
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG
    summary = json.loads(out)
    assert summary["grid"] == [5, 5] and summary["figure"] == str(png)
    pd = load_phase_diagram(npz)
    want = phase_diagram("tanh", np.linspace(0.5, 4, 5), np.linspace(0, 0.3, 5), 10)
    assert pd.equals(want)
    assert "25/25" in err  # progress on stderr


def test_no_progress_is_silent(tmp_path):
    code, out, err = _run(
        "phase-diagram",
        "relu",
        "--depth",
        "5",
        "--grid",
        "3",
        "--out",
        str(tmp_path / "r.png"),
        "--no-progress",
    )
    assert code == 0 and err == ""
    assert "scale invariant" in out


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--depth", "0"], "positive integer"),
        (["--depth", "5", "--grid", "1"], "--grid"),
        (["--depth", "5", "--sigma-w2-range", "3", "1"], "increasing"),
    ],
)
def test_bad_options_exit_non_zero_and_write_nothing(tmp_path, extra, match):
    code, out, err = _run(
        "phase-diagram",
        "tanh",
        *extra,
        "--out",
        str(tmp_path / "x.png"),
        "--data",
        str(tmp_path / "x.npz"),
        "--no-progress",
    )
    assert code == 2 and out == ""
    assert match in err
    assert list(tmp_path.iterdir()) == []


def test_unknown_activation(tmp_path):
    code, _, err = _run(
        "phase-diagram", "nosuch", "--depth", "5", "--out", str(tmp_path / "x.png")
    )
    assert code == 2 and "unknown activation" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--out", "--data"])
def test_missing_folder_is_a_clear_error(tmp_path, option):
    paths = {"--out": str(tmp_path / "a.png"), "--data": str(tmp_path / "a.npz")}
    paths[option] = str(tmp_path / "missing" / "f")
    code, _, err = _run(
        "phase-diagram",
        "tanh",
        "--depth",
        "5",
        "--grid",
        "3",
        "--no-progress",
        "--out",
        paths["--out"],
        "--data",
        paths["--data"],
    )
    assert code == 2 and "does not exist" in err and option in err
    assert list(tmp_path.iterdir()) == []


def test_equilibrium_plot(tmp_path):
    png = tmp_path / "eq.png"
    code, out, err = _run("equilibrium", "relu", "--depth", "50", "--plot", str(png))
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG and str(png) in out


def test_equilibrium_plot_missing_folder(tmp_path):
    code, out, err = _run(
        "equilibrium", "relu", "--depth", "50", "--plot", str(tmp_path / "no" / "e.png")
    )
    assert code == 2 and out == "" and "does not exist" in err


def test_help_lists_phase_diagram_and_plot():
    code, out, _ = _run("equilibrium", "--help")
    assert code == 0
    code, _, _ = _run("phase-diagram", "--help")
    assert code == 0
