"""``sigprop asymptotics``, in process."""

from __future__ import annotations

import io
import json

from sigprop.cli import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_relu_prints_the_exact_law():
    code, out, err = run("asymptotics", "relu")
    assert code == 0 and err == ""
    assert "p = 3/2" in out and "2*sqrt(2)/(3*pi)" in out and "L^(3/5)" in out
    assert "edge" in out


def test_json_for_machines():
    code, out, _ = run("asymptotics", "relu", "--json", "--depth", "100000")
    data = json.loads(out)
    assert code == 0 and data["regime"] == "edge" and data["exact"] is True
    assert data["exponent"] == 0.6 and data["p_exact"] == "3/2"
    assert abs(data["prefactor"] - 2.1355) < 1e-4
    assert abs(data["predicted"]["100000"] - data["prefactor"] * 1e5**0.6) < 1e-6


def test_tanh_on_its_edge_is_numeric():
    code, out, _ = run("asymptotics", "tanh", "--sigma-b2", "0.05", "--json")
    data = json.loads(out)
    assert code == 0 and data["p"] == 2 and data["exact"] is False
    assert data["a_exact"] is None and abs(data["exponent"] - 2 / 3) < 1e-15


def test_off_the_edge_gives_the_regime():
    code, out, _ = run("asymptotics", "tanh", "--sigma-w2", "3", "--sigma-b2", "0.05")
    assert code == 0 and "chaotic" in out and "L" in out
    code, out, _ = run(
        "asymptotics", "tanh", "--sigma-w2", "1.7", "--sigma-b2", "0.05", "--json"
    )
    data = json.loads(out)
    assert data["regime"] == "ordered" and data["bound_multiple"] > 0


def test_bad_input_is_a_message_and_an_exit_code():
    code, out, err = run("asymptotics", "nope")
    assert code == 2 and out == "" and "unknown activation 'nope'" in err
    code, _, err = run("asymptotics", "relu", "--sigma-b2", "0.1")
    assert code == 3 and "NoEdgeOfChaosError" in err
