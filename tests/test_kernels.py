"""Per-layer kernels: an independent NTK recursion and finite-width networks."""

import math

import numpy as np
import pytest

import sigprop as sp


def arccos_relu(q11, q22, q12):
    """E[relu(u1) relu(u2)] and E[relu'(u1) relu'(u2)], written out."""
    s = np.sqrt(q11 * q22)
    c = np.clip(q12 / s, -1, 1)
    th = np.arccos(c)
    k = s * (np.sin(th) + (np.pi - th) * c) / (2 * np.pi)
    kd = (np.pi - th) / (2 * np.pi)
    return k, kd


def whole_network_ntk(x, depth, sw, sb):
    """Jacot et al. (2018) recursion for ReLU: Theta^{l+1} = q^{l+1} + sw Kd Theta^l."""
    q = sw * x @ x.T / x.shape[1] + sb
    theta = q.copy()
    for _ in range(depth):
        d = np.diag(q)
        k, kd = arccos_relu(d[:, None], d[None, :], q)
        q = sw * k + sb
        theta = q + sw * kd * theta
    return q, theta


def test_sum_of_layer_ntks_is_the_whole_network_ntk():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5)) * rng.uniform(0.5, 2.0, size=(7, 1))
    sw, sb, depth = 1.7, 0.2, 6
    k = sp.MeanField("relu", sw, sb).kernels(x, depth)
    nngp, ntk = whole_network_ntk(x, depth, sw, sb)
    np.testing.assert_allclose(k.q[-1], nngp, rtol=1e-13)
    np.testing.assert_allclose(k.ntk.sum(axis=0), ntk, rtol=1e-13)
    np.testing.assert_allclose(k.ntk, k.ntk_weights + k.ntk_bias, rtol=1e-15)
    np.testing.assert_allclose(k.ntk_bias, sb * k.qt, rtol=1e-15)
    np.testing.assert_allclose(k.qt[-1], 1.0)


def test_kernels_match_the_scalar_maps_for_inputs_at_q_star():
    mf = sp.MeanField("tanh", 1.5, 0.1)
    c0 = 0.3
    # two inputs with q^1 = q* and correlation c^1 = c0
    d = 2
    r = math.sqrt((mf.q_star - 0.1) / 1.5 * d)
    a = np.array([r, 0.0])
    rho = (c0 * mf.q_star - 0.1) / (mf.q_star - 0.1)
    b = r * np.array([rho, math.sqrt(1 - rho * rho)])
    k = mf.kernels(np.stack([a, b]), 8)
    np.testing.assert_allclose(
        np.diagonal(k.q, axis1=1, axis2=2), mf.q_star, rtol=1e-12
    )
    c = mf.forward(8, c0)
    np.testing.assert_allclose(k.correlations[:-1, 0, 1], c[:8], rtol=1e-11)
    np.testing.assert_allclose(
        k.gradient_correlations[:, 0, 1],
        mf._backward_from(np.concatenate([[0], c[:8]])),
        rtol=1e-11,
    )


def finite_width_network(x, depth, width, sw, sb, act, rng):
    """One random numpy network in NTK parameterization: per-layer kernels."""
    n, d = x.shape
    h, fan = x, d
    ys, hs = [], [x]
    weights = []
    for _ in range(depth):
        w = rng.normal(size=(fan, width))
        b = rng.normal(size=width)
        y = math.sqrt(sw / fan) * h @ w + math.sqrt(sb) * b
        weights.append(w)
        ys.append(y)
        h = act(y)
        hs.append(h)
        fan = width
    w_out = rng.normal(size=(fan, 1))
    # backward: delta^{L+1} = 1, delta^l = phi'(y^l) (sqrt(sw/n_l) W^{l+1} delta^{l+1})
    deltas = [np.ones((n, 1))]
    w_next = w_out
    for layer in range(depth, 0, -1):
        y = ys[layer - 1]
        back = deltas[0] @ w_next.T * math.sqrt(sw / width)
        deltas.insert(0, act.derivative(y) * back)
        w_next = weights[layer - 1]
    fwd = [sw * hh @ hh.T / hh.shape[1] + sb for hh in hs]  # q^1..q^{L+1}
    bwd = [dl @ dl.T for dl in deltas]  # qt^1..qt^{L+1}
    return np.array(fwd), np.array(bwd)


@pytest.mark.parametrize(("name", "sw", "sb"), [("relu", 2.0, 0.1), ("tanh", 1.6, 0.1)])
def test_finite_width_networks_reproduce_the_kernels(name, sw, sb):
    """Width-2048 networks: the mean over seeds lies within 4 standard errors."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 10))
    depth, width, seeds = 4, 2048, 12
    act = sp.activation(name)
    k = sp.MeanField(act, sw, sb).kernels(x, depth)
    samples = {"q": [], "qt": [], "ntk": [], "c": [], "ct": []}
    for _ in range(seeds):
        q, qt = finite_width_network(x, depth, width, sw, sb, act, rng)
        samples["q"].append(q)
        samples["qt"].append(qt)
        samples["ntk"].append(q * qt)
        d, dt = np.sqrt(np.einsum("lii->li", q)), np.sqrt(np.einsum("lii->li", qt))
        samples["c"].append(q / (d[:, :, None] * d[:, None, :]))
        samples["ct"].append(qt / (dt[:, :, None] * dt[:, None, :]))
    theory = {
        "q": k.q,
        "qt": k.qt,
        "ntk": k.ntk,
        "c": k.correlations,
        "ct": k.gradient_correlations,
    }
    for key, values in samples.items():
        arr = np.array(values)
        mean = arr.mean(axis=0)
        se = arr.std(axis=0, ddof=1) / math.sqrt(seeds)
        # entries that are exactly fixed (qt^{L+1} = 1, unit diagonals) have se 0
        tol = 4 * se + 1e-12 + 2.0 / width * np.abs(theory[key])
        bad = np.abs(mean - theory[key]) > tol
        assert not bad.any(), (key, np.argwhere(bad)[:3])


def test_bad_inputs():
    mf = sp.MeanField("relu", 2.0, 0.0)
    with pytest.raises(sp.InvalidParameterError, match="2-D array"):
        mf.kernels(np.ones(4), 3)
    with pytest.raises(sp.InvalidParameterError, match="all-zero row"):
        mf.kernels(np.array([[1.0, 0.0], [0.0, 0.0]]), 3)
    with pytest.raises(sp.InvalidParameterError, match="finite"):
        mf.kernels(np.array([[1.0, np.nan], [0.0, 1.0]]), 3)
    with pytest.raises(sp.InvalidParameterError, match="`depth`"):
        mf.kernels(np.eye(2), 0)
    with pytest.raises(sp.InvalidParameterError, match="at least 2 inputs"):
        mf.equilibrium_for_data(np.ones((1, 3)), 3)


def test_kernels_without_a_finite_q_star_still_work():
    x = np.random.default_rng(0).normal(size=(4, 3))
    k = sp.MeanField("relu", 2.0, 0.1).kernels(x, 5)
    assert np.all(np.isfinite(k.ntk)) and np.all(
        np.diff(np.einsum("lii->li", k.q)[:, 0]) > 0
    )
