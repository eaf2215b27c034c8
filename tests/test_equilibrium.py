"""Equilibrium layer: crossing logic on hand-made curves, and the laws."""

import math

import numpy as np
import pytest

import sigprop as sp
from sigprop.equilibrium import crossing_layer


def test_interpolated_crossing_of_hand_made_curves():
    depth = 4
    fwd = np.array([1.0, 0.8, 0.6, 0.2, 0.1])  # F(0..4)
    bwd = np.array([0.1, 0.3, 0.5, 0.8, 1.0])  # B(1..5)
    eq = crossing_layer(fwd, bwd, depth)
    # d(l) = F(l) - B(l): 0.7, 0.3, -0.3, -0.7 -> zero halfway between 2 and 3
    assert eq.layer == pytest.approx(2.5)
    assert eq.boundary is None
    assert [c.direction for c in eq.crossings] == ["down"]
    assert eq.fraction == pytest.approx(2.5 / 4)


def test_all_crossings_and_the_first_down_one():
    fwd = np.array([1.0, 0.9, 0.1, 0.9, 0.1, 0.0])
    bwd = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 1.0])
    eq = crossing_layer(fwd, bwd, 5)
    assert [c.direction for c in eq.crossings] == ["down", "up", "down"]
    assert eq.layer == pytest.approx(1 + 0.4 / 0.8)
    assert eq.crossings[2].layer == pytest.approx(3.5)


def test_boundary_cases():
    below = crossing_layer(np.array([1, 0.1, 0.05]), np.array([0.5, 0.7, 1.0]), 2)
    assert below.boundary == "below" and below.layer == 1.0
    above = crossing_layer(np.array([1, 0.9, 0.8]), np.array([0.1, 0.2, 1.0]), 2)
    assert above.boundary == "above" and above.layer == 2.0
    with pytest.raises(sp.InvalidParameterError, match="shape"):
        crossing_layer(np.ones(3), np.ones(4), 2)


def relu_ratio(depth):
    eq = sp.MeanField("relu", 2.0, 0.0).equilibrium(depth, c0=0.0)
    assert eq.boundary is None
    return eq.layer / ((3 * math.pi / math.sqrt(2)) ** 0.4 * depth**0.6)


def test_relu_edge_approaches_its_asymptotic_law():
    """l* ~ (3 pi / sqrt 2)^(2/5) L^(3/5) (THEORY.md, section 6)."""
    ratios = [relu_ratio(depth) for depth in (100, 1000, 10_000, 100_000)]
    gaps = [abs(r - 1) for r in ratios]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 0.01


def test_tanh_edge_exponent_approaches_two_thirds():
    sw = sp.edge_of_chaos("tanh", sigma_b2=0.05)
    mf = sp.MeanField("tanh", sw, 0.05)
    layers = {depth: mf.equilibrium(depth).layer for depth in (100, 1000, 10_000)}
    slope_lo = math.log(layers[1000] / layers[100]) / math.log(10)
    slope_hi = math.log(layers[10_000] / layers[1000]) / math.log(10)
    assert abs(slope_hi - 2 / 3) < 0.01
    assert abs(slope_hi - 2 / 3) < abs(slope_lo - 2 / 3) + 0.02


def test_ordered_phase_saturates_and_chaotic_phase_scales_with_depth():
    ordered = sp.MeanField("tanh", 1.2, 0.3)
    assert ordered.phase == "ordered"
    deep = [ordered.equilibrium(depth).layer for depth in (200, 400, 800)]
    assert max(deep) - min(deep) < 0.05 * max(deep)
    chaotic = sp.MeanField("tanh", 3.0, 0.05)
    assert chaotic.phase == "chaotic"
    frac = [chaotic.equilibrium(depth).fraction for depth in (200, 400, 800)]
    assert max(frac) - min(frac) < 0.05


def test_c0_at_the_fixed_point_is_an_error():
    with pytest.raises(sp.EquilibriumError, match="`c0` = 1.0 is within"):
        sp.MeanField("relu", 2.0, 0.0).equilibrium(10, c0=1.0)
    chaotic = sp.MeanField("tanh", 3.0, 0.05)
    with pytest.raises(sp.EquilibriumError, match="fixed point"):
        chaotic.equilibrium(10, c0=chaotic.c_star)


def test_dataset_equilibrium_reduces_to_the_scalar_one_for_equal_correlations():
    # inputs on a regular simplex all have the same pairwise cosine; with
    # |x|^2/d chosen so that q^1 = q*, every pair follows the scalar recursion
    mf = sp.MeanField("tanh", 1.5, 0.1)
    n = 6
    x = np.eye(n) - 1.0 / n  # pairwise cosine -1/(n-1)
    x *= math.sqrt((mf.q_star - 0.1) / 1.5 / (np.sum(x[0] ** 2) / n))
    k = mf.kernels(x, 10)
    c1 = k.correlations[0, 0, 1]
    eq_data = mf.equilibrium_for_data(x, 10, kernels=k)
    # the scalar recursion started from c^1 one layer later
    c = mf.forward(11, c1)
    np.testing.assert_allclose(eq_data.forward[1:], np.abs(c[:10] - 1), rtol=1e-9)
    ct = mf._backward_from(np.concatenate([[0.0], c[:10]]))
    np.testing.assert_allclose(eq_data.backward, ct, rtol=1e-9)
