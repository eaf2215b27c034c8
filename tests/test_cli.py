"""The command line, in process."""

import io
import json
import math

import pytest

import sigprop as sp
from sigprop.cli import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_equilibrium_human_and_json():
    code, out, err = run("equilibrium", "relu", "--depth", "100")
    assert code == 0 and err == ""
    expected = sp.MeanField("relu", 2.0, 0.0).equilibrium(100).layer
    assert f"{expected:.4f}" in out and "101 linear layers" in out
    code, out, _ = run(
        "equilibrium", "tanh", "--sigma-b2", "0.05", "--depth", "50", "--json"
    )
    data = json.loads(out)
    sw = sp.edge_of_chaos("tanh", 0.05)
    assert data["sigma_w2"] == pytest.approx(sw, rel=1e-14)
    assert data["layer"] == pytest.approx(
        sp.MeanField("tanh", sw, 0.05).equilibrium(50).layer
    )
    assert data["boundary"] is None and "forward" not in data
    code, out, _ = run("equilibrium", "relu", "--depth", "5", "--json", "--curves")
    assert len(json.loads(out)["forward"]) == 6


def test_eoc_and_maps():
    code, out, _ = run("eoc", "tanh", "--sigma-b2", "0.05", "--json")
    assert code == 0
    assert json.loads(out)["sigma_w2"] == pytest.approx(sp.edge_of_chaos("tanh", 0.05))
    code, out, _ = run(
        "maps", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--json"
    )
    data = json.loads(out)
    mf = sp.MeanField("tanh", 1.5, 0.05)
    assert data["q_star"] == pytest.approx(mf.q_star) and data["phase"] == mf.phase
    code, out, _ = run("maps", "relu", "--json")
    data = json.loads(out)
    assert data["xi_c"] == "inf" and data["q_star"].startswith("every q")
    code, out, _ = run("maps", "leaky_relu", "--param", "alpha=0.1", "--json")
    assert json.loads(out)["sigma_w2"] == pytest.approx(2 / 1.01)
    code, out, _ = run("maps", "tanh", "--sigma-w2", "1.5")
    assert (
        code == 0
        and "chi_1" in out
        and math.isfinite(float(out.split("chi_1")[1].split()[0]))
    )


@pytest.mark.parametrize(
    ("argv", "code", "match"),
    [
        (
            ["equilibrium", "relu", "--depth", "0"],
            2,
            "`depth` must be a positive integer",
        ),
        (
            ["equilibrium", "relu", "--depth", "5", "--c0", "1.5"],
            2,
            "`c0` must be a correlation",
        ),
        (["equilibrium", "relu", "--depth", "5", "--c0", "1"], 3, "EquilibriumError"),
        (["equilibrium", "rellu", "--depth", "5"], 2, "Known names"),
        (["equilibrium", "x+y", "--depth", "5"], 2, "function of `x` alone"),
        (
            ["maps", "tanh", "--sigma-w2", "-1"],
            2,
            "`sigma_w2` must be a finite number >= 0",
        ),
        (["maps", "relu", "--sigma-w2", "2.5"], 3, "no finite fixed point"),
        (
            ["maps", "relu", "--sigma-w2", "2", "--sigma-b2", "0.1"],
            3,
            "no finite fixed point",
        ),
        (["eoc", "relu", "--sigma-b2", "0.1"], 3, "single point"),
        (["maps", "exp(x**2)", "--sigma-w2", "1"], 3, "MomentOverflowError"),
        (["maps", "leaky_relu", "--param", "alpha"], 2, "NAME=VALUE"),
        (["equilibrium", "relu"], 2, "--depth"),
        (["equilibrium", "relu", "--depth", "ten"], 2, "invalid int"),
        (["nonsense"], 2, "invalid choice"),
        ([], 2, "COMMAND"),
    ],
)
def test_bad_input_gives_a_message_and_an_exit_code(argv, code, match):
    got, out, err = run(*argv)
    assert got == code
    assert match in err
    assert "Traceback" not in err and out == ""


def test_version():
    code, out, _ = run("--version")
    assert code == 0
