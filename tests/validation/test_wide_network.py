"""Wide networks at initialization reproduce the infinite-width theory.

This links the instrument (the torch MLP and its layer kernels) with the
theory (THEORY.md sections 2-4): at width N = 2048, over S seeds, the
measured per-layer correlations ``c^l`` (forward, from ``y^l``), ``ct^l``
(backward, from ``D^l_c = df_c/dy^l``, obtained here by autograd, not by the
kernel code) and the correlations of the layer kernels match the
infinite-width values within their sampling error.

Tolerance: the seed mean of each quantity has standard error ``se`` estimated
from the S seeds; ``|mean - theory| / se`` follows a t distribution with
``S - 1`` degrees of freedom (plus an ``O(1/N)`` finite-width bias, far below
``se`` here: with 32 seeds the largest of 36 such ratios was 3.9). All the
comparisons of one check share one threshold, Bonferroni-corrected for their
number at a family-wise rate of 1e-2. The standard errors themselves are
bounded, so that the check has power (a wrong initialization variance or a
wrong bias term moves the means by many standard errors; see the test that
feeds the oracle a wrong ``sigma_b2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

import sigprop as sp
from sigprop.validation import MLP, layer_tangent_kernels

N, L, C, S, D_IN = 2048, 6, 2, 16, 64


def _inputs() -> np.ndarray:
    # Four inputs with correlations near 0.8, -0.5 and 0 and unequal norms.
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((4, D_IN))
    X = Z.copy()
    X[1] = 0.8 * Z[0] + 0.6 * Z[1]
    X[2] = -0.5 * Z[0] + np.sqrt(0.75) * Z[2]
    norms = np.array([1.0, 1.2, 0.9, 1.0]) * np.sqrt(D_IN)
    return X / np.linalg.norm(X, axis=1, keepdims=True) * norms[:, None]


def _corr(M: np.ndarray) -> np.ndarray:
    dg = np.sqrt(np.einsum("...ii->...i", M))
    return M / (dg[..., :, None] * dg[..., None, :])


@dataclass
class Measured:
    q: np.ndarray  # (S, L, n, n): y^l . y^l / N, l = 1..L
    qt: np.ndarray  # (S, L+1, n, n): mean over outputs of D_c . D_c
    cross: np.ndarray  # (S, L+1, n, n): D_0 . D_1 (zero in the limit)
    K: np.ndarray  # (S, L+1, n, n): traced layer kernels, weights + bias


def _measure(name: str, sw2: float, sb2: float) -> Measured:
    x = torch.as_tensor(_inputs(), dtype=torch.float32)
    qs, qts, cross, Ks = [], [], [], []
    for seed in range(S):
        net = MLP(
            name, L, N, D_IN, C, sw2, sb2, device="cpu", dtype="float32", seed=seed
        )
        ys = net.preactivations(x.requires_grad_(False))
        grads = [
            torch.autograd.grad(ys[-1][:, c].sum(), ys, retain_graph=True)
            for c in range(C)
        ]
        qs.append([(y @ y.T / N).detach().numpy() for y in ys[:-1]])
        qts.append(
            [sum(g[k] @ g[k].T for g in grads).numpy() / C for k in range(L + 1)]
        )
        cross.append([(grads[0][k] @ grads[1][k].T).numpy() for k in range(L + 1)])
        Ks.append([K.numpy() for K in layer_tangent_kernels(net, x)])
    return Measured(*(np.array(a) for a in (qs, qts, cross, Ks)))


def _relu_theory(sw2: float, sb2: float) -> tuple[np.ndarray, np.ndarray]:
    """q^1..q^{L+1} and qt^1..qt^{L+1} from the arc-cosine closed form."""
    X = _inputs()
    q = sw2 * X @ X.T / D_IN + sb2
    qs, slopes = [q], []
    for _ in range(L):
        s = np.sqrt(np.outer(np.diag(q), np.diag(q)))
        c = np.clip(q / s, -1.0, 1.0)
        th = np.arccos(c)
        # E[relu' relu'] and E[relu relu] for a Gaussian pair (Cho & Saul).
        slopes.append((np.pi - th) / (2 * np.pi))
        q = sw2 * s * (np.sin(th) + (np.pi - th) * c) / (2 * np.pi) + sb2
        qs.append(q)
    qt = [np.ones_like(q)]
    for k in range(L - 1, -1, -1):
        qt.insert(0, sw2 * slopes[k] * qt[0])
    return np.array(qs), np.array(qt)


def _core_theory(name: str, sw2: float, sb2: float) -> tuple[np.ndarray, np.ndarray]:
    mf = sp.MeanField(name, sigma_w2=sw2, sigma_b2=sb2)
    k = mf.kernels(_inputs(), L)
    return np.asarray(k.q), np.asarray(k.qt)


def _t(values: np.ndarray, theory: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """``|seed mean - theory| / standard error`` for every entry compared."""
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    keep = np.ones((values.shape[-1],) * 2, dtype=bool)
    if not diagonal:
        keep = ~np.eye(values.shape[-1], dtype=bool)
    # Symmetric matrices: count each pair once.
    keep &= np.triu(np.ones_like(keep))
    return np.ravel(np.abs(mean - theory)[..., keep] / se[..., keep])


def _t_critical(m: int, seeds: int, family_alpha: float = 1e-2) -> float:
    """Two-sided t threshold for ``m`` comparisons at family-wise ``alpha``."""
    from scipy import stats

    return float(stats.t.ppf(1.0 - family_alpha / (2 * m), seeds - 1))


def _check(m: Measured, q: np.ndarray, qt: np.ndarray, sw2: float, sb2: float) -> None:
    fan_in = np.array([D_IN] + [N] * L, dtype=float)[:, None, None]
    # Kernels in standard parameterization: (n_{l-1} K^{l-1} + 1) qt^l with
    # n_{l-1} K^{l-1} = n_{l-1} (q^l - sigma_b2) / sigma_w2 (THEORY.md s. 4).
    K = C * (fan_in * (q - sb2) / sw2 + 1.0) * qt
    t = np.concatenate(
        [
            # Forward: c^l for l = 1..L, and the scale q^l itself.
            _t(_corr(m.q), _corr(q[:L])),
            _t(m.q, q[:L], diagonal=True),
            # Backward: ct^l and qt^l for l = 1..L (l = L+1 is exact, below).
            _t(_corr(m.qt[:, :L]), _corr(qt[:L])),
            _t(m.qt[:, :L], qt[:L], diagonal=True),
            # Different outputs decorrelate: the cross-class blocks vanish.
            _t(m.cross[:, :L], np.zeros_like(qt[:L]), diagonal=True),
            # Correlations of the measured layer kernels.
            _t(_corr(m.K), _corr(K)),
        ]
    )
    assert np.all(np.isfinite(t))
    assert t.max() < _t_critical(t.size, S), (t.max(), _t_critical(t.size, S))
    np.testing.assert_allclose(m.qt[:, L], 1.0, rtol=1e-12)
    # Power: the sampling error of the kernel correlations is small.
    assert (_corr(m.K).std(axis=0, ddof=1) / np.sqrt(S)).max() < 0.03


@pytest.fixture(scope="module")
def relu_measured() -> Measured:
    return _measure("relu", 2.0, 0.1)


def test_relu_matches_arccosine_closed_form(relu_measured: Measured) -> None:
    q, qt = _relu_theory(2.0, 0.1)
    _check(relu_measured, q, qt, 2.0, 0.1)


def test_check_has_power_against_a_wrong_bias_variance(
    relu_measured: Measured,
) -> None:
    # The same measurement against the theory of sigma_b2 = 0.15 must fail.
    q, qt = _relu_theory(2.0, 0.15)
    with pytest.raises(AssertionError):
        _check(relu_measured, q, qt, 2.0, 0.15)


needs_core = pytest.mark.skipif(
    not hasattr(sp, "MeanField"),
    reason="the mean-field core (sp.MeanField.kernels) is not merged yet",
)


@needs_core
def test_core_relu_kernels_equal_the_closed_form() -> None:
    # sigma_w2 < 2: the core asks for a finite q* (ReLU at (2, 0.1) has none).
    q, qt = _core_theory("relu", 1.9, 0.1)
    q_ref, qt_ref = _relu_theory(1.9, 0.1)
    np.testing.assert_allclose(q, q_ref, rtol=1e-10)
    np.testing.assert_allclose(qt, qt_ref, rtol=1e-10)


@needs_core
@pytest.mark.parametrize(
    ("name", "sw2", "sb2"), [("tanh", 1.5, 0.05), ("gelu", 1.7, 0.1)]
)
def test_matches_core_kernels(name: str, sw2: float, sb2: float) -> None:
    q, qt = _core_theory(name, sw2, sb2)
    assert q.shape == qt.shape == (L + 1, 4, 4)
    _check(_measure(name, sw2, sb2), q, qt, sw2, sb2)
