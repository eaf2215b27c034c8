"""Edge-of-chaos laws against the exact recursion and independent derivations."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy

import sigprop as sp
from sigprop.asymptotics import Asymptotics, _numeric, chaotic_fraction


@pytest.fixture(autouse=True)
def _reset_mpmath():
    saved = mpmath.mp.dps
    yield
    mpmath.mp.dps = saved


@pytest.fixture(scope="module")
def relu_law():
    return sp.asymptotics("relu")


@pytest.fixture(scope="module")
def tanh_law():
    return sp.asymptotics("tanh", sigma_b2=0.05)


# -- exact (a, p) -----------------------------------------------------------------


def test_relu_law_is_exact(relu_law):
    law = relu_law
    assert isinstance(law, Asymptotics)
    assert law.regime == "edge" and law.exact
    assert law.p == sympy.Rational(3, 2)
    assert sympy.simplify(law.a - 2 * sympy.sqrt(2) / (3 * sympy.pi)) == 0
    assert law.exponent == sympy.Rational(3, 5)
    target = (3 * sympy.pi / sympy.sqrt(2)) ** sympy.Rational(2, 5)
    assert sympy.simplify(law.prefactor - target) == 0
    assert float(law.prefactor) == pytest.approx(2.1355, abs=1e-4)


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5])
def test_leaky_relu_a_matches_the_kink_derivation(alpha):
    # a = (2/3) sw J^2 / (pi sqrt 2) with sw = 2/(1+alpha^2), J = 1 - alpha
    law = sp.asymptotics("leaky_relu", alpha=alpha)
    assert law.exact and law.p == sympy.Rational(3, 2)
    expected = 2 * math.sqrt(2) * (1 - alpha) ** 2 / (3 * math.pi * (1 + alpha**2))
    assert float(law.a) == pytest.approx(expected, rel=1e-14)


def test_kink_formula_reproduces_the_exact_relu_coefficient():
    mf = sp.MeanField("relu", 2.0, 0.0)
    a, p, method = _numeric(mf, mpmath.mpf(1))
    assert p == sympy.Rational(3, 2) and "kink" in method
    assert a == pytest.approx(2 * math.sqrt(2) / (3 * math.pi), rel=1e-14)


def test_closed_form_and_quadrature_agree_for_erf():
    law = sp.asymptotics("erf", sigma_b2=0.05)
    mf = sp.MeanField("erf", law.sigma_w2, 0.05)
    a_quad, p_quad, _ = _numeric(mf, mpmath.mpf(mf.q_star))
    assert law.p == p_quad == 2
    assert "closed-form" in law.method
    assert law.a == pytest.approx(a_quad, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "p"), [("tanh", 2), ("sin", 2), ("selu", sympy.Rational(3, 2))]
)
def test_a_and_p_describe_the_map_near_c_equal_1(name, p):
    law = sp.asymptotics(name, sigma_b2=0.05)
    assert law.p == p
    mf = sp.MeanField(name, law.sigma_w2, 0.05)
    # (eps - (1 - f(1 - eps))) / eps^p = a + O(eps^(1/2)); Richardson over
    # two eps removes most of the O(eps^(1/2)) (kink) or O(eps) (smooth) term
    pe = float(p)
    est = []
    for e in (1e-4, 4e-4):
        one_m = float(mf._one_minus_f(np.array(e)))
        est.append((e - one_m) / e**pe)
    order = 0.5 if pe == 1.5 else 1.0
    extrap = (est[0] * 4**order - est[1]) / (4**order - 1)
    assert extrap == pytest.approx(float(law.a), rel=2e-3)


# -- convergence of the exact recursion ----------------------------------------------


def test_relu_recursion_converges_to_the_law(relu_law):
    mf = sp.MeanField("relu", 2.0, 0.0)
    l4 = mf.equilibrium(10**4).layer
    l5 = mf.equilibrium(10**5).layer
    slope = math.log(l5 / l4) / math.log(10)
    # measured: slope 0.6075, ratio 0.9928 (l*(1e5) = 2120.21)
    assert abs(slope - 0.6) < 0.01
    assert abs(l5 / relu_law(10**5) - 1) < 0.01


def test_relu_correlation_follows_the_eps_law(relu_law):
    eps = sp.MeanField("relu", 2.0, 0.0).forward_eps(10**4)
    # 1 - c^l ~ 9 pi^2 / (2 l^2); measured ratio 0.9711 at l = 1e3, 0.9964 at 1e4
    assert relu_law.eps(10**4) == pytest.approx(9 * math.pi**2 / 2 / 1e8, rel=1e-12)
    r3, r4 = eps[1000] / relu_law.eps(1000), eps[10**4] / relu_law.eps(10**4)
    assert abs(r4 - 1) < 0.005 and abs(r4 - 1) < abs(r3 - 1)


def test_tanh_recursion_approaches_two_thirds(tanh_law):
    law = tanh_law
    assert law.p == 2 and law.exponent == sympy.Rational(2, 3)
    mf = sp.MeanField("tanh", law.sigma_w2, 0.05)
    ls = {n: mf.equilibrium(n).layer for n in (1000, 10**4, 3 * 10**4)}
    # measured: slope 0.6618 over [1e3, 1e4], 0.6626 over [1e4, 3e4];
    # l*/law = 1.0186 at 1e3, 1.0119 at 1e4, 1.0073 at 3e4
    s1 = math.log(ls[10**4] / ls[1000]) / math.log(10)
    s2 = math.log(ls[3 * 10**4] / ls[10**4]) / math.log(3)
    assert abs(s1 - 2 / 3) < 0.006
    assert abs(s2 - 2 / 3) < 0.005
    ratios = [ls[n] / law(n) for n in sorted(ls)]
    assert abs(ratios[1] - 1) < 0.015
    assert abs(ratios[2] - 1) < 0.01
    assert abs(ratios[2] - 1) < abs(ratios[1] - 1) < abs(ratios[0] - 1)


# -- off the edge ------------------------------------------------------------------


def test_chaotic_phase_reports_a_fraction():
    law = sp.asymptotics("tanh", 0.05, sigma_w2=3.0)
    assert law.regime == "chaotic" and law.a is None and law.p is None
    mf = sp.MeanField("tanh", 3.0, 0.05)
    assert law.fraction == pytest.approx(chaotic_fraction(mf.chi_1, mf.chi_c))
    # l* = fraction L + O(1): (l*/L - fraction) L is the same constant at every
    # L (measured -2.604 +- 0.003 for c0 = 0 at L = 100, 200, 300). Beyond
    # L ~ 400 F(l*) falls below float64's resolution of c* and the float64
    # recursion no longer sees the crossing (see test_precision).
    offsets = [
        (mf.equilibrium(n, 0.0).layer / n - law.fraction) * n for n in (100, 200, 300)
    ]
    assert max(offsets) - min(offsets) < 0.05
    assert abs(offsets[0]) < 5
    assert law(2000) == pytest.approx(2000 * law.fraction)
    with pytest.raises(sp.EquilibriumError, match="chaotic phase"):
        law.eps(10)


def test_ordered_phase_is_bounded_by_a_multiple_of_xi_c():
    law = sp.asymptotics("tanh", 0.05, sigma_w2=1.7)
    assert law.regime == "ordered" and law.a is None
    mf = sp.MeanField("tanh", 1.7, 0.05)
    assert law.xi_c == pytest.approx(mf.xi_c)
    assert law.limit == pytest.approx(law.bound_multiple * law.xi_c)
    assert 0 < law.bound_multiple < 5
    # independent of L once L >> xi_c
    for n in (1500, 5000):
        assert mf.equilibrium(n).layer == pytest.approx(law.limit, rel=1e-6)
    assert law(10**6) == law.limit


def test_chaotic_fraction_rejects_bad_slopes():
    with pytest.raises(sp.InvalidParameterError, match="0 < `chi_c` < 1 < `chi_1`"):
        chaotic_fraction(0.9, 0.5)


# -- degenerate maps and display ---------------------------------------------------


def test_zero_fixed_point_is_flagged_not_a_law():
    law = sp.asymptotics("tanh")  # sigma_b2 = 0: the edge sits at q* = 0
    assert law.regime == "edge" and law.a is None
    assert "q* = " in law.note
    with pytest.raises(sp.EquilibriumError, match=r"q\* = "):
        law(100)


def test_linear_map_has_no_power_law():
    law = sp.asymptotics("linear")
    assert law.regime == "edge" and not law.has_power_law
    assert "f(c) = c" in law.note


def test_law_prints_readably(relu_law, tanh_law):
    text = str(relu_law)
    assert "p = 3/2" in text and "L^(3/5)" in text and "exact" in text
    assert "2.1355" in text
    assert "regime='edge'" in repr(relu_law)
    assert "numeric" in str(tanh_law) and "L^(2/3)" in str(tanh_law)
    chaotic = sp.asymptotics("tanh", 0.05, sigma_w2=3.0)
    assert "chaotic" in str(chaotic) and "fraction" in repr(chaotic)


def test_law_accepts_a_meanfield(tanh_law):
    mf = sp.MeanField("tanh", tanh_law.sigma_w2, 0.05)
    law = sp.asymptotics(mf)
    assert law.a == pytest.approx(float(tanh_law.a), rel=1e-12)


def test_law_of_a_high_precision_meanfield_agrees_with_float64(tanh_law):
    mf = sp.MeanField("tanh", tanh_law.sigma_w2, "0.05", dps=25)
    law = sp.asymptotics(mf)
    assert float(law.a) == pytest.approx(float(tanh_law.a), rel=1e-12)


def test_law_rejects_bad_depths(relu_law):
    with pytest.raises(sp.InvalidParameterError, match="`L` must be positive"):
        relu_law(-3)
