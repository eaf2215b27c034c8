"""Closed-form kernels and maps against quadrature and independent formulas."""

from __future__ import annotations

import math

import mpmath
import mpref
import numpy as np
import pytest
import sympy

import sigprop as sp
from sigprop import symbolic as sy
from sigprop.gaussian import GaussianExpectations
from sigprop.symbolic import c, q, q11, q12, q22, sigma_b2, sigma_w2

CLOSED = [
    "relu",
    "linear",
    "erf",
    "sin",
    "cos",
    "x**3 - 2*x",
    "2*erf(3*x)",
    "x + sin(x)",
    "sinh(x/2)/4",
    "cos(2*x) + x**2",
]


@pytest.fixture(autouse=True)
def _reset_mpmath():
    saved = mpmath.mp.dps
    yield
    mpmath.mp.dps = saved


def _numeric_engine(act):
    """The core's quadrature engine, forced even where a closed form exists."""
    g = GaussianExpectations(act)
    g._closed = None
    g.engine = "numeric"
    return g


def _points(n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.05, 3.0, n)
    b = rng.uniform(0.05, 3.0, n)
    r = rng.uniform(-1.0, 1.0, n) * np.sqrt(a * b)
    return a, b, r


@pytest.mark.parametrize("name", CLOSED)
def test_kernel_matches_quadrature_at_many_points(name):
    act = sp.activation(name)
    cf = sy.closed_form(act)
    a, b, r = _points(200)
    exact = np.broadcast_to(cf.kernel_fn()(a, b, r), a.shape)
    quad = _numeric_engine(act).e_phiphi(a, b, r)
    scale = np.sqrt(_numeric_engine(act).e_phi2(a) * _numeric_engine(act).e_phi2(b))
    assert np.max(np.abs(exact - quad) / scale) < 1e-11


@pytest.mark.parametrize("name", CLOSED)
def test_length_map_matches_mpmath_quadrature(name):
    act = sp.activation(name)
    cf = sy.closed_form(act)
    mpmath.mp.dps = 25
    f, df = act.mpmath_fn(), act.mpmath_derivative()
    for qv in ("0.7", "2.0"):
        qm = mpmath.mpf(qv)
        got = cf.kernel_fn("mpmath")(qm, qm, qm)
        ref = mpref.e1(f, qm, act.kinks)
        assert abs(got - ref) <= mpmath.mpf("1e-20") * abs(ref)
        dgot = cf.dkernel_fn("mpmath")(qm, qm, qm)
        dref = mpref.e1(df, qm, act.kinks)
        assert abs(dgot - dref) <= mpmath.mpf("1e-20") * abs(dref)


@pytest.mark.parametrize("name", CLOSED)
def test_maps_are_consistent(name):
    cf = sy.closed_form(name)
    vals = {q: sympy.Rational(7, 10), sigma_w2: sympy.Rational(3, 2), sigma_b2: 0}
    # f(1) = V(q)/q and f' = d f / d c
    f1 = cf.c_map.subs(vals).subs(c, 1)
    assert abs(float(f1 - cf.q_map.subs(vals) / vals[q])) < 1e-14
    for cv in (-0.5, 0.2, 0.8):
        slope = float(cf.c_map_slope.subs(vals).subs(c, cv))
        deriv = float(sympy.diff(cf.c_map, c).subs(vals).subs(c, cv))
        assert slope == pytest.approx(deriv, rel=1e-12, abs=1e-14)


def test_relu_closed_forms_are_the_arc_cosine_kernel():
    assert sp.symbolic.q_map("relu") == sigma_w2 * q / 2 + sigma_b2
    f = sp.symbolic.c_map("relu").subs({sigma_w2: 2, sigma_b2: 0})
    expected = (sympy.sqrt(1 - c**2) + (sympy.pi - sympy.acos(c)) * c) / sympy.pi
    assert sympy.simplify(f - expected) == 0
    assert sympy.simplify(f.subs(c, 0) - 1 / sympy.pi) == 0
    slope = sp.symbolic.c_map_slope("relu").subs(sigma_w2, 2)
    assert sympy.simplify(slope - (1 - sympy.acos(c) / sympy.pi)) == 0


def test_sin_cos_and_exp_kernels_are_the_moment_generating_function():
    e = sympy.exp(-(q11 + q22) / 2)
    assert (
        sympy.simplify((sy.kernel("sin") - e * sympy.sinh(q12)).rewrite(sympy.exp)) == 0
    )
    assert (
        sympy.simplify((sy.kernel("cos") - e * sympy.cosh(q12)).rewrite(sympy.exp)) == 0
    )
    mgf = sympy.exp((q11 + q22) / 2 + q12)
    assert sympy.simplify(sy.kernel("exp(x)") - mgf) == 0


def test_polynomial_kernel_is_isserlis():
    # E[u1^3 u2^3] = 9 q11 q22 q12 + 6 q12^3 (Wick pairings)
    assert sympy.expand(sy.kernel("x**3") - 9 * q11 * q22 * q12 - 6 * q12**3) == 0
    # E[u1^2 u2^2] = q11 q22 + 2 q12^2
    assert sympy.expand(sy.kernel("x**2") - q11 * q22 - 2 * q12**2) == 0


def test_erf_kernel_is_williams_arcsine():
    expected = (
        2 / sympy.pi * sympy.asin(2 * q12 / sympy.sqrt((1 + 2 * q11) * (1 + 2 * q22)))
    )
    assert sympy.simplify(sy.kernel("erf") - expected) == 0


def test_leaky_relu_parameter_enters_the_kernel():
    k = sy.kernel("leaky_relu", alpha=0.5)
    val = float(k.subs({q11: 1, q22: 1, q12: 1}))
    assert val == pytest.approx((1 + 0.25) / 2, rel=1e-15)


@pytest.mark.parametrize("name", ["tanh", "gelu", "silu", "softplus", "sigmoid"])
def test_no_closed_form_names_the_activation_and_the_numeric_parts(name):
    with pytest.raises(sy.NoClosedFormError, match=rf"'{name}'.*numeric only"):
        sp.symbolic.c_map(name)
    with pytest.raises(sy.NoClosedFormError, match="numeric only"):
        sp.symbolic.q_map(name)
    assert not sy.has_closed_form(name)


@pytest.mark.parametrize("name", ["elu", "selu", "hardtanh"])
def test_kinked_activations_have_no_closed_form(name):
    with pytest.raises(sp.NoClosedFormError, match="closed-form Gaussian kernel"):
        sp.symbolic.c_map(name)


def test_callable_has_no_closed_form():
    act = sp.activation(np.tanh, name="mytanh")
    with pytest.raises(sp.NoClosedFormError, match="'mytanh'.*plain callable"):
        sy.closed_form(act)


def test_no_closed_form_is_a_sigprop_value_error():
    assert issubclass(sp.NoClosedFormError, sp.SigpropError)
    assert issubclass(sp.NoClosedFormError, ValueError)


def test_compiled_functions_are_vectorized_and_match_the_expression():
    cf = sy.closed_form("erf")
    fn = cf.c_map_fn()
    cs = np.linspace(-1, 1, 11)
    got = fn(cs, 0.8, 1.4, 0.05)
    for cv, g in zip(cs, got, strict=True):
        ref = float(cf.c_map.subs({c: cv, q: 0.8, sigma_w2: 1.4, sigma_b2: 0.05}))
        assert g == pytest.approx(ref, rel=1e-14)


# -- the numeric core uses the closed forms -----------------------------------------


@pytest.mark.parametrize("name", ["sin", "cos", "x**3/10 + x"])
def test_core_uses_closed_engine(name):
    assert GaussianExpectations(sp.activation(name)).engine == "closed"


@pytest.mark.parametrize("name", ["relu", "erf", "tanh"])
def test_core_keeps_its_own_engines(name):
    assert GaussianExpectations(sp.activation(name)).engine != "closed"


@pytest.mark.parametrize("eps", [1e-12, 1e-8, 1e-3, 0.5, 1.7])
def test_closed_engine_half_diffsq_is_accurate_near_c_equal_1(eps):
    # reference: E[phi^2] - E[phi phi] from the exact sin kernel at 60 digits
    g = GaussianExpectations(sp.activation("sin"))
    qv = 1.3
    got = float(g.half_diffsq(qv, eps))
    with mpmath.workdps(60):
        qm, em = mpmath.mpf(qv), mpmath.mpf(eps)
        ref = mpmath.exp(-qm) * (mpmath.sinh(qm) - mpmath.sinh(qm * (1 - em)))
    assert got == pytest.approx(float(ref), rel=1e-14)


def test_meanfield_sin_maps_match_closed_forms():
    sw, sb = 1.6, 0.1
    mf = sp.MeanField("sin", sw, sb)
    qs = mf.q_star
    # V(q*) = q*: sw (1 - e^{-2q})/2 + sb
    assert sw * (1 - math.exp(-2 * qs)) / 2 + sb == pytest.approx(qs, rel=1e-13)
    # chi_1 = sw E[cos^2] = sw (1 + e^{-2q})/2
    assert mf.chi_1 == pytest.approx(sw * (1 + math.exp(-2 * qs)) / 2, rel=1e-13)
