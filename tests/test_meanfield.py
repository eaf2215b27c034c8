"""MeanField against closed forms, properties and named errors."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize

import sigprop as sp


def relu_c_map(c):
    """Normalized arc-cosine map of ReLU at (2, 0), written out at 30 digits."""
    import mpmath as mp

    with mp.workdps(30):
        c = mp.mpf(c)
        return float((mp.sqrt(1 - c * c) + (mp.pi - mp.acos(c)) * c) / mp.pi)


def test_relu_edge_of_chaos_is_the_arccos_map():
    mf = sp.MeanField("relu", 2.0, 0.0)
    assert mf.phase == "edge" and mf.chi_1 == 1.0 and mf.c_star == 1.0
    for c in (-1.0, -0.4, 0.0, 0.3, 0.9, 0.999999):
        assert mf.c_map(c) == pytest.approx(relu_c_map(c), rel=1e-15, abs=1e-16)
        slope = 1 - math.acos(c) / math.pi  # f'(c) = (pi - theta) / pi
        assert mf.c_map_slope(c) == pytest.approx(slope, rel=1e-14, abs=1e-16)
    assert math.isinf(mf.xi_c)


def test_relu_with_bias_has_the_linear_fixed_point():
    mf = sp.MeanField("relu", 1.5, 0.2)
    assert mf.q_star == pytest.approx(0.2 / (1 - 0.75), rel=1e-15)
    assert mf.chi_1 == pytest.approx(0.75, rel=1e-15)
    assert mf.phase == "ordered"
    assert mf.xi_q == pytest.approx(-1 / math.log(0.75), rel=1e-14)


def test_leaky_relu_edge_and_linear():
    for alpha in (0.0, 0.1, 0.5):
        sw = sp.edge_of_chaos(sp.activation("leaky_relu", alpha=alpha))
        assert sw == pytest.approx(2 / (1 + alpha**2), rel=1e-15)
        assert (
            sp.MeanField(sp.activation("leaky_relu", alpha=alpha), sw).phase == "edge"
        )
    assert sp.edge_of_chaos("linear") == 1.0
    assert sp.MeanField("linear", 1.0).c_map(0.3) == pytest.approx(0.3, abs=1e-15)


def test_erf_fixed_point_and_slope_from_the_arcsine_formula():
    sw, sb = 2.5, 0.1

    def v(q):  # V(q) for erf, closed form (Williams 1997)
        return sw * 2 / math.pi * math.asin(2 * q / (1 + 2 * q)) + sb

    q_star = optimize.brentq(lambda q: v(q) - q, 1e-6, 50, xtol=1e-15, rtol=1e-15)
    mf = sp.MeanField("erf", sw, sb)
    assert mf.q_star == pytest.approx(q_star, rel=1e-13)
    assert mf.chi_1 == pytest.approx(
        sw * 4 / math.pi / math.sqrt(1 + 4 * q_star), rel=1e-13
    )
    h = 1e-6
    assert mf.chi_q == pytest.approx(
        (v(q_star + h) - v(q_star - h)) / (2 * h), rel=1e-8
    )


def test_tanh_edge_of_chaos_matches_the_literature_and_has_chi1_one():
    sw = sp.edge_of_chaos("tanh", sigma_b2=0.05)
    # Schoenholz et al. (2017), figure 1: sigma_w^2 ~ 1.76 at sigma_b^2 = 0.05
    assert 1.75 < sw < 1.77
    mf = sp.MeanField("tanh", sw, 0.05)
    assert abs(mf.chi_1 - 1) < 1e-13
    assert mf.phase == "edge"
    # tanh with no bias: q* = 0 up to sigma_w2 = 1, where chi_1 = phi'(0)^2 sw = 1
    assert sp.edge_of_chaos("tanh", 0.0) == pytest.approx(1.0, abs=1e-9)
    assert sp.MeanField("tanh", 0.8, 0.0).q_star == 0.0


@pytest.mark.parametrize("name", ["tanh", "erf", "selu", "hardtanh", "sin"])
def test_edge_of_chaos_gives_chi_1_one(name):
    sw = sp.edge_of_chaos(name, sigma_b2=0.1)
    assert abs(sp.MeanField(name, sw, 0.1).chi_1 - 1) < 1e-12


def test_chaotic_fixed_point_is_stable_and_fixed():
    mf = sp.MeanField("tanh", 3.0, 0.05)
    assert mf.phase == "chaotic"
    assert 0 < mf.c_star < 1
    assert mf.c_map(mf.c_star) == pytest.approx(mf.c_star, abs=1e-14)
    assert 0 < mf.chi_c < 1
    assert mf.xi_c == pytest.approx(-1 / math.log(mf.chi_c))
    # odd activation without bias: c* = 0 in the chaotic phase
    assert abs(sp.MeanField("tanh", 3.0, 0.0).c_star) < 1e-12


def test_q_map_fixed_point_and_slope():
    mf = sp.MeanField("tanh", 1.76, 0.05)
    assert mf.q_map(mf.q_star) == pytest.approx(mf.q_star, rel=1e-14)
    h = 1e-6
    fd = (mf.q_map(mf.q_star + h) - mf.q_map(mf.q_star - h)) / (2 * h)
    assert mf.chi_q == pytest.approx(fd, rel=1e-8)
    np.testing.assert_allclose(
        mf.q_map(np.array([0.1, 1.0])), [mf.q_map(0.1), mf.q_map(1.0)], rtol=1e-15
    )


NAMES = ["tanh", "erf", "relu", "gelu", "sin", "hardtanh", "elu"]


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    sw=st.floats(0.3, 3.0),
    sb=st.floats(0.01, 0.5),
    c=st.floats(-1.0, 1.0),
)
def test_correlation_map_properties(name, sw, sb, c):
    mf = sp.MeanField(name, sw, sb)
    try:
        f = mf.c_map(c)
    except sp.NoFixedPointError:  # relu, gelu for sigma_w2 >= 2: checked apart
        assume(False)
    assert -1.0 - 1e-12 <= f <= 1.0 + 1e-12
    assert mf.c_map(1.0) == pytest.approx(1.0, abs=1e-13)
    assert mf.c_map_slope(1.0) == pytest.approx(mf.chi_1, rel=1e-10)
    if -0.99 < c < 0.99:
        h = 1e-5
        fd = (mf.c_map(c + h) - mf.c_map(c - h)) / (2 * h)
        assert mf.c_map_slope(c) == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_forward_recursion_at_relu_edge_to_depth_1e5():
    """1 - c^l -> 9 pi^2 / (2 l^2) (THEORY.md, section 2), to depth 10^5."""
    mf = sp.MeanField("relu", 2.0, 0.0)
    eps = mf.forward_eps(100_000, 0.0)
    assert np.all(np.diff(eps) < 0) and np.all(eps > 0)
    for layer, tol in ((10_000, 5e-3), (100_000, 1e-3)):
        law = 9 * math.pi**2 / (2 * layer**2)
        assert eps[layer] / law == pytest.approx(1.0, abs=tol)
    # the correction is O(log l / l): the ratio approaches 1 from one side
    r4 = eps[10_000] / (9 * math.pi**2 / 2e8)
    r5 = eps[100_000] / (9 * math.pi**2 / 2e10)
    assert abs(r5 - 1) < abs(r4 - 1)


def test_forward_matches_an_independent_high_precision_recursion(mp_dps):
    import mpmath as mp

    mp_dps(40)
    mf = sp.MeanField("relu", 2.0, 0.0)
    eps = mf.forward_eps(2000, 0.25)
    c = mp.mpf("0.25")
    for layer in range(1, 2001):
        c = (mp.sqrt(1 - c * c) + (mp.pi - mp.acos(c)) * c) / mp.pi
        if layer in (1, 10, 100, 1000, 2000):
            assert eps[layer] == pytest.approx(float(1 - c), rel=1e-12)


def test_backward_is_the_product_of_slopes():
    mf = sp.MeanField("tanh", 1.5, 0.1)
    c = mf.forward(12, 0.2)
    ct = mf.backward(12, 0.2)
    assert ct.shape == (13,) and ct[-1] == 1.0
    for layer in (1, 5, 12):
        prod = np.prod([mf.c_map_slope(c[k]) / mf.chi_1 for k in range(layer, 13)])
        assert ct[layer - 1] == pytest.approx(prod, rel=1e-12)
    np.testing.assert_allclose(
        mf.gradient_variance(3), mf.chi_1 ** np.array([3, 2, 1, 0]), rtol=1e-15
    )


def test_relu_at_its_critical_point_has_no_single_q_star():
    mf = sp.MeanField("relu", 2.0, 0.0)
    with pytest.raises(sp.IndeterminateFixedPointError, match="every q is a fixed"):
        _ = mf.q_star
    assert mf.summary()["q_star"] == "every q (scale-invariant)"
    assert mf.equilibrium(10).layer > 1


@pytest.mark.parametrize(("sw", "sb"), [(2.5, 0.0), (2.0, 0.1), (2.0000001, 0.0)])
def test_relu_without_finite_q_star_is_a_named_error(sw, sb):
    mf = sp.MeanField("relu", sw, sb)
    with pytest.raises(sp.NoFixedPointError, match="no finite fixed point q\\*.*Use"):
        _ = mf.q_star
    with pytest.raises(sp.NoFixedPointError):
        mf.equilibrium(10)
    with pytest.raises(sp.NoFixedPointError):
        mf.c_map(0.5)


def test_exploding_length_map_is_a_named_error():
    with pytest.raises(sp.NoFixedPointError, match="still grows"):
        _ = sp.MeanField("x + x**3", 3.0, 0.1).q_star


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sigma_w2": -1.0}, "`sigma_w2` must be a finite number >= 0.*-1.0"),
        ({"sigma_w2": float("nan")}, "`sigma_w2` must be a finite number"),
        (
            {"sigma_w2": 1.0, "sigma_b2": -0.1},
            "`sigma_b2` must be a finite number >= 0",
        ),
        ({"sigma_w2": float("inf")}, "`sigma_w2` must be a finite number"),
        ({}, "`sigma_w2` is required"),
    ],
)
def test_bad_variances(kwargs, match):
    with pytest.raises(sp.InvalidParameterError, match=match):
        sp.MeanField("tanh", **kwargs)


def test_bad_depth_and_correlation():
    mf = sp.MeanField("tanh", 1.5, 0.1)
    for depth in (0, -3, 2.5, "10"):
        with pytest.raises(
            sp.InvalidParameterError, match="`depth` must be a positive"
        ):
            mf.forward(depth)
    with pytest.raises(sp.InvalidParameterError, match="`c0` must be a correlation"):
        mf.forward(5, 1.5)
    with pytest.raises(sp.InvalidParameterError, match="`c` must be correlations"):
        mf.c_map(np.array([0.2, 1.2]))
    with pytest.raises(sp.InvalidParameterError, match="`q` must be finite"):
        mf.q_map(-1.0)


def test_edge_of_chaos_across_a_jump_of_chi_1_is_a_named_error():
    # silu at sigma_b2 = 0.1: the stable q* changes branch and chi_1 jumps
    # from about 0.73 to 1.02 across sigma_w2 ~ 2.3297
    with pytest.raises(sp.NoEdgeOfChaosError, match="jumps across 1"):
        sp.edge_of_chaos("silu", sigma_b2=0.1)


def test_edge_of_chaos_errors():
    with pytest.raises(sp.NoEdgeOfChaosError, match="single point.*\\(2, 0\\)"):
        sp.edge_of_chaos("relu", sigma_b2=0.1)
    with pytest.raises(sp.NoEdgeOfChaosError, match="already chaotic"):
        sp.edge_of_chaos("1000*tanh(x)", sigma_b2=0.1)
    with pytest.raises(sp.InvalidParameterError, match="`sigma_b2`"):
        sp.edge_of_chaos("tanh", sigma_b2=-1)
