"""The mpmath path (``dps=``) against independent references, in digits."""

from __future__ import annotations

import mpmath
import pytest

import sigprop as sp
from sigprop._mp import MPMeanField


@pytest.fixture(autouse=True)
def _reset_mpmath():
    saved = mpmath.mp.dps
    yield
    mpmath.mp.dps = saved


def digits(x, ref):
    """Correct decimal digits of ``x`` relative to ``ref`` (capped at 100)."""
    with mpmath.workdps(120):
        err = abs(mpmath.mpf(x) - ref)
        if err == 0:
            return 100.0
        return float(-mpmath.log10(err / abs(ref)))


def relu_f(c, dps):
    """The arc-cosine map at (2, 0), written out independently."""
    with mpmath.workdps(dps + 20):
        c = mpmath.mpf(c)
        return (mpmath.sqrt(1 - c**2) + (mpmath.pi - mpmath.acos(c)) * c) / mpmath.pi


# -- construction and bad input ---------------------------------------------------


def test_dps_dispatches_to_the_mpmath_class():
    mf = sp.MeanField("relu", 2.0, 0.0, dps=30)
    assert isinstance(mf, MPMeanField) and mf.dps == 30
    assert isinstance(sp.MeanField("relu", 2.0, 0.0, dps=None), sp.MeanField)


@pytest.mark.parametrize("dps", [0, 8, 15])
def test_precision_below_float64_is_rejected(dps):
    with pytest.raises(
        sp.InvalidParameterError, match=r"`dps` must be >= 16.*got|dps=None"
    ):
        sp.MeanField("relu", 2.0, 0.0, dps=dps)


@pytest.mark.parametrize("dps", [20.5, "30", True])
def test_dps_must_be_an_integer(dps):
    with pytest.raises(sp.InvalidParameterError, match="`dps` must be an integer"):
        sp.MeanField("relu", 2.0, 0.0, dps=dps)


def test_negative_variance_is_rejected():
    with pytest.raises(sp.InvalidParameterError, match="`sigma_b2` must be a finite"):
        sp.MeanField("tanh", 1.0, "-0.1", dps=20)


def test_global_precision_is_left_alone():
    mpmath.mp.dps = 15
    mf = sp.MeanField("erf", 1.5, 0.05, dps=40)
    mf.c_map(0.2)
    assert mpmath.mp.dps == 15


def test_no_fixed_point_is_a_named_error():
    with pytest.raises(sp.NoFixedPointError, match="no finite fixed point"):
        sp.MeanField("relu", 3, 0, dps=20)


# -- maps at several precisions ------------------------------------------------------


@pytest.mark.parametrize("dps", [20, 30, 50, 80])
@pytest.mark.parametrize("cv", ["-0.7", "0", "0.3", "0.999999"])
def test_relu_map_to_all_digits(dps, cv):
    mf = sp.MeanField("relu", 2, 0, dps=dps)
    assert digits(mf.c_map(cv), relu_f(cv, dps)) >= dps - 1


@pytest.mark.parametrize("dps", [20, 40, 60])
def test_relu_one_minus_f_keeps_its_digits_near_1(dps):
    mf = sp.MeanField("relu", 2, 0, dps=dps)
    # 1 - f(1 - eps) = eps - (2 sqrt 2/(3 pi)) eps^(3/2) - (sqrt 2/(30 pi)) eps^(5/2)
    # (series of the arc-cosine map); at eps = 1e-30 three terms give 75+ digits
    with mpmath.workdps(dps + 20):
        e = mpmath.mpf("1e-30")
        ref = (
            e
            - 2 * mpmath.sqrt(2) / (3 * mpmath.pi) * e**1.5
            - mpmath.sqrt(2) / (30 * mpmath.pi) * e**2.5
        )
    assert digits(mf.one_minus_c_map("1e-30"), ref) >= dps - 1


@pytest.mark.parametrize("dps", [20, 30])
def test_erf_map_and_fixed_point(dps):
    mf = sp.MeanField("erf", "1.3", "0.05", dps=dps)
    with mpmath.workdps(dps + 20):
        qs = mpmath.mpf(mf.q_star)
        v = mpmath.mpf("1.3") * 2 / mpmath.pi * mpmath.asin(2 * qs / (1 + 2 * qs))
        assert digits(v + mpmath.mpf("0.05"), qs) >= dps - 1
        r = 2 * qs / (1 + 2 * qs)
        ref = (
            mpmath.mpf("1.3") * 2 / mpmath.pi * mpmath.asin(r * mpmath.mpf("0.4"))
            + mpmath.mpf("0.05")
        ) / qs
    assert digits(mf.c_map("0.4"), ref) >= dps - 2


def test_tanh_mehler_map_at_independent_points():
    import mpref

    mf = sp.MeanField("tanh", "1.5", "0.05", dps=25)
    with mpmath.workdps(30):
        qs = mpmath.mpf(mf.q_star)
        sb = mpmath.mpf("0.05")
        e2 = mpref.e1(mpmath.tanh, qs)
        # c = 0: independent inputs, E[tanh] = 0, so f(0) = sb / q*
        assert digits(mf.c_map(0), sb / qs) >= 24
        # c = -1: u2 = -u1, so f(-1) = (-sw E[tanh^2] + sb) / q*
        ref = (-mpmath.mpf("1.5") * e2 + sb) / qs
        assert digits(mf.c_map(-1), ref) >= 24
        # c = 1: V(q*) / q* = 1
        assert abs(mf.c_map(1) - 1) < mpmath.mpf("1e-25")


@pytest.mark.slow
@pytest.mark.parametrize("dps", [20])
def test_tanh_precision_is_self_consistent(dps):
    lo = sp.MeanField("tanh", "1.5", "0.05", dps=dps)
    hi = sp.MeanField("tanh", "1.5", "0.05", dps=dps + 15)
    for name in ("q_star", "chi_1", "chi_q"):
        assert digits(getattr(lo, name), getattr(hi, name)) >= dps - 1
    assert digits(lo.c_map("0.2"), hi.c_map("0.2")) >= dps - 1


def test_float64_tanh_maps_keep_13_digits():
    lo = sp.MeanField("tanh", 1.5, 0.05)
    hi = sp.MeanField("tanh", 1.5, 0.05, dps=30)
    # measured: q* 15.9 digits, chi_1 15.7, f(0.2) 15.9
    assert digits(lo.q_star, hi.q_star) >= 14
    assert digits(lo.chi_1, hi.chi_1) >= 14
    assert digits(lo.c_map(0.2), hi.c_map(0.2)) >= 14


@pytest.mark.slow
def test_edge_of_chaos_at_high_precision():
    sw = sp.edge_of_chaos("tanh", 0.05, dps=20)
    mf = sp.MeanField("tanh", sw, "0.05", dps=20)
    # measured: |chi_1 - 1| = 3.3e-18 at dps = 20 (the secant stops there)
    assert abs(mf.chi_1 - 1) < mpmath.mpf("1e-17")
    # the float64 solver: measured 15.4 digits
    assert digits(sp.edge_of_chaos("tanh", 0.05), sw) >= 14
    assert sp.edge_of_chaos("relu", dps=30) == 2


# -- recursions: how many digits float64 keeps ---------------------------------


@pytest.fixture(scope="module")
def relu_mp_eps_1e4():
    return MPMeanField("relu", 2, 0, dps=30).forward_eps(10**4)


def test_float64_relu_recursion_digits_to_1e4(relu_mp_eps_1e4):
    e64 = sp.MeanField("relu", 2.0, 0.0).forward_eps(10**4)
    # measured: 17.1 digits at l = 1e2, 14.4 at l = 1e4
    assert digits(e64[100], relu_mp_eps_1e4[100]) >= 16
    assert digits(e64[10**4], relu_mp_eps_1e4[10**4]) >= 14


@pytest.mark.slow
def test_float64_relu_recursion_digits_at_1e5():
    ref = MPMeanField("relu", 2, 0, dps=25).forward_eps(10**5)
    e64 = sp.MeanField("relu", 2.0, 0.0).forward_eps(10**5)
    # measured: 13.9 digits at l = 1e5, 13.7 at the worst layer up to 1e5
    assert digits(e64[10**5], ref[10**5]) >= 13.4
    worst = min(digits(e64[k], ref[k]) for k in range(1, 10**5 + 1, 97))
    assert worst >= 13.2


def test_relu_equilibrium_layer_agrees_with_float64():
    lay64 = sp.MeanField("relu", 2.0, 0.0).equilibrium(1000).layer
    eq = sp.MeanField("relu", 2, 0, dps=30).equilibrium(1000)
    assert eq.boundary is None and eq.depth == 1000
    # measured: 15.3 digits
    assert digits(lay64, eq.layer) >= 13


@pytest.mark.slow
def test_chaotic_equilibrium_needs_more_than_float64():
    # about 80 s: 600 layers of a 40-digit Mehler series, forward and backward
    # tanh at (3, 0.05): l* = 0.7310 L - 2.6. At L = 600, F(l*) ~ 1e-21 is below
    # float64's resolution of c*; 40 digits resolve it directly.
    law = sp.asymptotics("tanh", 0.05, sigma_w2=3.0)
    eq = sp.MeanField("tanh", 3, "0.05", dps=40).equilibrium(600)
    assert float(eq.layer) == pytest.approx(law.fraction * 600 - 2.6, abs=0.1)
    # the float64 path propagates the deviation c^l - c* itself (second-order
    # Taylor below 1e-6), so it keeps the crossing that a plain difference
    # c^l - c* lost at this depth (it gave l*/L = 0.86 before that fix)
    lay64 = sp.MeanField("tanh", 3.0, 0.05).equilibrium(600).layer
    assert lay64 == pytest.approx(float(eq.layer), rel=1e-9)
