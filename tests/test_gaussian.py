"""Gaussian expectations against mpmath quadrature with the kinks split."""

import math

import mpmath as mp
import mpref
import numpy as np
import pytest

import sigprop as sp
from sigprop.gaussian import GaussianExpectations

# (q11, q22, q12): unequal variances, negative, near +-1, a large variance
PAIRS = [
    (1.0, 1.5, 0.6),
    (2.0, 2.0, -1.5),
    (0.5, 0.5, 0.4999),
    (0.7, 0.3, -0.4579),
    (30.0, 20.0, 15.0),
]


def rel(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-300)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "linear", "erf", "sin", "cos"])
def test_closed_forms_against_mpmath(name, mp_dps):
    mp_dps(25)
    act = sp.activation(name, **({"alpha": 0.2} if name == "leaky_relu" else {}))
    g = GaussianExpectations(act)
    assert g.engine in ("piecewise_linear", "erf", "closed")
    f, df = act.mpmath_fn(), act.mpmath_derivative()
    for q in (0.01, 1.0, 40.0):
        assert rel(g.e_phi2(q), mpref.e1(f, q, act.kinks)) < 1e-14
        assert rel(g.e_dphi2(q), mpref.e1(df, q, act.kinks)) < 1e-14
    ff, dff = mpref.floatfn(act), mpref.floatfn(act, derivative=True)
    for q11, q22, q12 in PAIRS:
        ref = mpref.e2(ff, ff, q11, q22, q12, act.kinks)
        assert rel(g.e_phiphi(q11, q22, q12), ref) < 1e-11
        dref = mpref.e2(dff, dff, q11, q22, q12, act.kinks)
        assert rel(g.e_dd(q11, q22, q12), dref) < 1e-11


@pytest.mark.parametrize(
    "name", ["tanh", "gelu", "softplus", "hardtanh", "elu", "selu"]
)
def test_numeric_engine_against_mpmath(name, mp_dps):
    mp_dps(18)
    act = sp.activation(name)
    g = GaussianExpectations(act)
    assert g.engine == "numeric"
    f = act.mpmath_fn()
    for q in (0.05, 1.0, 25.0):
        assert rel(g.e_phi2(q), mpref.e1(f, q, act.kinks)) < 1e-12
    ff, dff = mpref.floatfn(act), mpref.floatfn(act, derivative=True)
    for q11, q22, q12 in PAIRS[:4]:
        ref = mpref.e2(ff, ff, q11, q22, q12, act.kinks)
        assert rel(g.e_phiphi(q11, q22, q12), ref) < 1e-11
        dref = mpref.e2(dff, dff, q11, q22, q12, act.kinks)
        assert rel(g.e_dd(q11, q22, q12), dref) < 1e-11


@pytest.mark.parametrize("name", ["tanh", "hardtanh"])
def test_numeric_engine_at_a_large_variance(name, mp_dps):
    mp_dps(18)
    act = sp.activation(name)
    g = GaussianExpectations(act)
    ff = mpref.floatfn(act)
    ref = mpref.e2(ff, ff, 30.0, 20.0, 15.0, act.kinks)
    assert rel(g.e_phiphi(30.0, 20.0, 15.0), ref) < 1e-10


def test_derivative_of_length_integral():
    # d/dq E[phi^2] against a central difference of the (exact) integral
    for name in ["tanh", "relu", "hardtanh", "erf", "gelu"]:
        g = GaussianExpectations(sp.activation(name))
        for q in (0.3, 2.0):
            h = 1e-5
            fd = (g.e_phi2(q + h) - g.e_phi2(q - h)) / (2 * h)
            assert rel(g.de_phi2_dq(q), fd) < 1e-7


def _mp_closed_phiphi(name, q, c):
    """E[phi(u1) phi(u2)] at equal variance q from the closed forms, in mpmath."""
    if name == "erf":
        return 2 / mp.pi * mp.asin(2 * q * c / (1 + 2 * q))
    alpha = mp.mpf("0.1") if name == "leaky_relu" else mp.mpf(0)
    th = mp.acos(c)
    j = mp.sin(th) + (mp.pi - th) * mp.cos(th)
    return alpha * q * c + (1 - alpha) ** 2 * q * j / (2 * mp.pi)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "erf"])
def test_half_diffsq_keeps_its_digits_near_c_equal_one(name, mp_dps):
    """The cancellation-free form against E[phi^2] - E[phi phi] at 60 digits."""
    mp_dps(60)
    act = sp.activation(name, **({"alpha": 0.1} if name == "leaky_relu" else {}))
    g = GaussianExpectations(act)
    q = mp.mpf("0.8")
    for eps in [1e-2, 1e-6, 1e-10, 1e-14]:
        e = mp.mpf(eps)
        ref = _mp_closed_phiphi(name, q, mp.mpf(1)) - _mp_closed_phiphi(name, q, 1 - e)
        assert rel(g.half_diffsq(0.8, eps), ref) < 1e-13, eps


@pytest.mark.parametrize("name", ["tanh", "gelu", "hardtanh", "elu"])
def test_half_diffsq_engines_agree_near_c_equal_one(name):
    """Mehler series (smooth) and rotated 2-D quadrature (all) agree at tiny eps,
    and both match the plain difference where that still has digits."""
    g = GaussianExpectations(sp.activation(name))
    q = 0.8
    for eps in [1e-3, 1e-6, 1e-9]:
        quad = g._quad2d("diffsq", np.array([q]), np.array([q]), None, np.array([eps]))
        got = g.half_diffsq(q, eps)
        assert rel(got, quad[0]) < 1e-9, eps
    eps = 1e-3
    direct = g.e_phi2(q) - g.e_phiphi(q, q, q * (1 - eps))
    assert rel(g.half_diffsq(q, eps), direct) < 1e-10


def test_half_diffsq_matches_the_difference_away_from_one():
    for name in ["tanh", "relu", "erf", "hardtanh", "gelu"]:
        g = GaussianExpectations(sp.activation(name))
        for eps in (0.3, 1.0, 1.7):
            q = 1.3
            direct = g.e_phi2(q) - g.e_phiphi(q, q, q * (1 - eps))
            assert rel(g.half_diffsq(q, eps), direct) < 1e-12


def test_stepper_equals_the_vectorized_form():
    for name in ["relu", "erf", "tanh", "hardtanh"]:
        g = GaussianExpectations(sp.activation(name))
        step = g.diffsq_stepper(0.9)
        for eps in (1e-8, 0.01, 0.5, 1.0, 2.0):
            assert rel(step(eps), g.half_diffsq(0.9, eps)) < 1e-13


def test_relu_arccos_closed_form_written_out():
    g = GaussianExpectations(sp.activation("relu"))
    for c in (-0.9, 0.0, 0.5, 0.99):
        exact = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / (2 * math.pi)
        assert rel(g.e_phiphi(1.0, 1.0, c), exact) < 1e-15


def test_moments_that_overflow_are_named_errors():
    g = GaussianExpectations(sp.activation("exp(x**2)"))
    with pytest.raises(sp.MomentOverflowError, match="exp\\(x\\*\\*2\\)"):
        g.e_phi2(1.0)
    # exp(3x) has the exact moment E[exp(6 sqrt(q) z)] = exp(18 q): finite in
    # float64 at q = 30, an overflow at q = 50
    g = GaussianExpectations(sp.activation("exp(3*x)"))
    assert rel(g.e_phi2(30.0), math.exp(18 * 30.0)) < 1e-13
    with pytest.raises(sp.MomentOverflowError, match="not finite"):
        g.e_phi2(50.0)


def test_vectorized_over_arrays():
    g = GaussianExpectations(sp.activation("tanh"))
    q = np.array([[0.5, 1.0], [2.0, 3.0]])
    out = g.e_phi2(q)
    assert out.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert out[i, j] == pytest.approx(float(g.e_phi2(q[i, j])), rel=1e-14)
    pair = g.e_phiphi(q, q.T, 0.3 * np.sqrt(q * q.T))
    assert pair.shape == (2, 2)
