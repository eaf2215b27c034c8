import math

import mpmath as mp
import numpy as np
import pytest

import sigprop as sp
from sigprop.activations import x_sym

NAMES = sorted(sp.registered_activations())
GRID = np.array([-4.0, -1.3, -0.7, -1e-3, 0.2, 0.9, 1.7, 3.5])


@pytest.mark.parametrize("name", NAMES)
def test_numpy_matches_the_sympy_expression_in_mpmath(name, mp_dps):
    mp_dps(30)
    act = sp.activation(name)
    f, df = act.mpmath_fn(), act.mpmath_derivative()
    for x in GRID:
        ref = f(mp.mpf(x))
        assert float(act(x)) == pytest.approx(float(ref), rel=1e-14, abs=1e-15)
        dref = df(mp.mpf(x))
        assert float(act.derivative(x)) == pytest.approx(
            float(dref), rel=1e-13, abs=1e-15
        )


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_a_finite_difference(name):
    act = sp.activation(name)
    x = GRID[
        np.abs(GRID[:, None] - np.array(act.kinks or [99.0])[None, :]).min(1) > 0.1
    ]
    h = 1e-6
    fd = (act(x + h) - act(x - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(x), fd, rtol=1e-7, atol=1e-8)


def test_kinks_of_registered_and_parsed_activations():
    assert sp.activation("relu").kinks == (0.0,)
    assert sp.activation("hardtanh").kinks == (-1.0, 1.0)
    assert sp.activation("tanh").kinks == ()
    assert sp.activation("Max(0, x - 1)").kinks == (1.0,)
    assert sp.activation("abs(x + 0.5)").kinks == (-0.5,)
    assert sp.activation("x*tanh(x)").kinks == ()


def test_leaky_relu_and_its_parameter():
    act = sp.activation("leaky_relu", alpha=0.2)
    assert act.slopes == (0.2, 1.0)
    np.testing.assert_allclose(act(np.array([-2.0, 3.0])), [-0.4, 3.0])
    assert act.name == "leaky_relu(alpha=0.2)"
    assert sp.activation(act.name) == act  # canonical names read back
    assert sp.activation("elu(alpha=0.5)").params == {"alpha": 0.5}
    assert act == sp.activation("leaky_relu", alpha=0.2)
    assert act != sp.activation("leaky_relu", alpha=0.3)


def test_expression_activation_evaluates_its_formula():
    act = sp.activation("x*tanh(x)")
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(act(x), x * np.tanh(x), rtol=1e-15)
    np.testing.assert_allclose(
        act.derivative(x), np.tanh(x) + x / np.cosh(x) ** 2, rtol=1e-14
    )
    assert act.expr.free_symbols == {x_sym}


def test_callable_activation_with_finite_difference_derivative():
    act = sp.activation(np.arctan, name="arctan")
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(act.derivative(x), 1 / (1 + x**2), rtol=1e-10)
    with pytest.raises(sp.ExpressionError, match="no expression"):
        act.mpmath_fn()


def test_callable_that_is_not_vectorized_is_rejected():
    with pytest.raises(sp.ExpressionError, match="numpy-vectorized|same shape"):
        sp.activation(lambda x: float(np.sum(x)))


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(sp.UnknownActivationError, match="Known names: .*relu.*tanh"):
        sp.activation("rellu")


def test_expression_of_other_symbols_is_rejected():
    with pytest.raises(sp.ExpressionError, match="function of `x` alone.*y"):
        sp.activation("x + y")


def test_unparsable_expression_is_rejected():
    with pytest.raises(sp.ExpressionError, match="could not parse"):
        sp.activation("x + (")


def test_expression_not_finite_is_rejected():
    with pytest.raises(sp.ExpressionError, match="not finite"):
        sp.activation("1/x")


def test_bad_parameters_are_rejected():
    with pytest.raises(sp.InvalidParameterError, match="`alpha`.*\\[0, 1\\].*1.5"):
        sp.activation("leaky_relu", alpha=1.5)
    with pytest.raises(sp.InvalidParameterError, match="takes parameters: none"):
        sp.activation("relu", alpha=0.1)
    with pytest.raises(sp.InvalidParameterError, match="`alpha` of elu must be > 0"):
        sp.activation("elu", alpha=-1.0)
    with pytest.raises(TypeError, match="must be a name"):
        sp.activation(3.0)  # type: ignore[arg-type]


def test_selu_constants():
    act = sp.activation("selu")
    # lambda * alpha * (e^-inf - 1) = -lambda alpha = -1.7580993408473766
    assert float(act(-50.0)) == pytest.approx(-1.0507009873554805 * 1.6732632423543772)
    assert math.isclose(float(act(1.0)), 1.0507009873554805)


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, sigprop; "
        "print(','.join(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_expression_with_a_registered_function_name_is_an_expression():
    # "erf(x)" looks like a name with parameters but is a function of x
    act = sp.activation("erf(x)")
    assert act.kind == "expression"
    x = np.linspace(-2.0, 2.0, 5)
    np.testing.assert_allclose(act(x), sp.activation("erf")(x), rtol=1e-15)
    np.testing.assert_allclose(
        sp.activation("tanh(2*x/3)")(x), np.tanh(2 * x / 3), rtol=1e-15
    )
    with pytest.raises(sp.InvalidParameterError, match="name=value"):
        sp.activation("leaky_relu(0.1)")
