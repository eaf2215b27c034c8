"""Alignment: known values, invariances, errors, streamed = materialized."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sigprop.validation import (
    MLP,
    AlignmentError,
    alignment,
    layer_alignments,
    layer_tangent_kernels,
)


def _labels(n: int, C: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.arange(n) % C)


def _naive_full(K: np.ndarray, y: np.ndarray, C: int, centered: bool) -> float:
    # Independent form: in the example-major layout, double-centering every
    # class block over examples is (H kron I_C) K (H kron I_C).
    n = y.size
    Y = np.eye(C)[y]
    if centered:
        P = np.kron(np.eye(n) - np.ones((n, n)) / n, np.eye(C))
        K = P @ K @ P
        Y = Y - Y.mean(axis=0)
    v = Y.reshape(-1)
    return float(v @ K @ v / (np.linalg.norm(K) * (v @ v)))


def _naive_traced(K: np.ndarray, y: np.ndarray, centered: bool) -> float:
    n = y.size
    Y = np.eye(y.max() + 1)[y]
    T = Y @ Y.T
    if centered:
        H = np.eye(n) - np.ones((n, n)) / n
        K, T = H @ K @ H, H @ T @ H
    return float(np.sum(K * T) / (np.linalg.norm(K) * np.linalg.norm(T)))


@pytest.mark.parametrize("centered", [True, False])
def test_label_kernel_has_alignment_one(centered: bool) -> None:
    y = _labels(30, 4)
    Y = np.eye(4)[y]
    assert alignment(Y @ Y.T, y, centered=centered) == pytest.approx(1.0, abs=1e-12)
    v = (Y - Y.mean(axis=0) if centered else Y).reshape(-1)
    assert alignment(np.outer(v, v), y, centered=centered) == pytest.approx(
        1.0, abs=1e-12
    )


def test_random_features_align_near_zero_and_shrink_with_n() -> None:
    C = 5
    rng = np.random.default_rng(3)
    means = {}
    for n in (40, 640):
        vals = []
        for _ in range(5):
            F = rng.standard_normal((n, 4 * n))
            vals.append(alignment(F @ F.T, _labels(n, C, int(rng.integers(99)))))
        means[n] = float(np.mean(vals))
    # Leading order for K ~ I + noise: sqrt(C - 1) / sqrt(1.25 n).
    for n, a in means.items():
        assert abs(a) < 2 * np.sqrt((C - 1) / (1.25 * n))
    assert means[640] < means[40] / 2


@given(
    scale=st.floats(1e-6, 1e6),
    seed=st.integers(0, 2**16),
    centered=st.booleans(),
)
@settings(max_examples=30, deadline=None)
def test_scale_invariance_and_range(scale: float, seed: int, centered: bool) -> None:
    rng = np.random.default_rng(seed)
    n, C = 12, 3
    y = _labels(n, C, seed)
    F = rng.standard_normal((n * C, 5))
    K = F @ F.T
    a = alignment(K, y, centered=centered)
    assert -1.0 <= a <= 1.0
    assert alignment(scale * K, y, centered=centered) == pytest.approx(a, rel=1e-10)
    G = F[:n] @ F[:n].T
    b = alignment(G, y, centered=centered)
    assert -1.0 <= b <= 1.0
    assert alignment(scale * G, y, centered=centered) == pytest.approx(b, rel=1e-10)


@pytest.mark.parametrize("centered", [True, False])
def test_matches_naive_formulas(centered: bool) -> None:
    rng = np.random.default_rng(0)
    n, C = 10, 3
    y = _labels(n, C)
    F = rng.standard_normal((n * C, 7))
    K = F @ F.T + 0.5
    assert alignment(K, y, centered=centered) == pytest.approx(
        _naive_full(K, y, C, centered), rel=1e-12
    )
    G = F[:n] @ F[:n].T
    assert alignment(G, y, centered=centered) == pytest.approx(
        _naive_traced(G, y, centered), rel=1e-12
    )


def test_permutation_invariance() -> None:
    rng = np.random.default_rng(1)
    n, C = 9, 3
    y = _labels(n, C)
    F = rng.standard_normal((n, C, 4))
    K = np.einsum("acf,bdf->acbd", F, F).reshape(n * C, n * C)
    p = rng.permutation(n)
    Kp = K.reshape(n, C, n, C)[p][:, :, p].reshape(n * C, n * C)
    assert alignment(Kp, y[p]) == pytest.approx(alignment(K, y), rel=1e-12)


def test_zero_and_constant_kernels_are_errors() -> None:
    y = _labels(8, 2)
    with pytest.raises(AlignmentError, match=r"kernel is zero"):
        alignment(np.zeros((8, 8)), y)
    with pytest.raises(AlignmentError, match=r"constant, once centered"):
        alignment(np.full((8, 8), 3.0), y, centered=True)
    # Uncentered, a constant kernel is a legitimate (if poor) kernel.
    assert 0 < alignment(np.full((8, 8), 3.0), y, centered=False) < 1
    bad = np.eye(8)
    bad[0, 1] = np.inf
    with pytest.raises(AlignmentError, match=r"NaN or infinite"):
        alignment(bad, y)


def test_single_class_is_an_error() -> None:
    with pytest.raises(AlignmentError, match=r"single class"):
        alignment(np.eye(5), np.zeros(5, dtype=int))


@pytest.mark.parametrize(
    ("K", "labels", "match"),
    [
        (np.eye(6), np.arange(5) % 2, r"`K` must be \(n, n\) or \(n C, n C\)"),
        (np.ones((4, 3)), np.arange(4) % 2, r"`K` must be a square matrix"),
        (np.eye(4), [0, 1, -1, 0], r"`labels` must be >= 0"),
        (np.eye(4), [0.5, 1, 0, 1], r"`labels` must be integer"),
    ],
)
def test_bad_arguments(K: np.ndarray, labels: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        alignment(K, labels)


@pytest.mark.parametrize("kind", ["full", "traced"])
@pytest.mark.parametrize("centered", [True, False])
def test_streamed_alignment_equals_materialized(kind: str, centered: bool) -> None:
    net = MLP("tanh", 5, 12, 6, 4, 1.4, 0.2, device="cpu", dtype="float64", seed=2)
    x = torch.randn(16, 6, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    y = _labels(16, 4)
    want = [alignment(K, y, centered=centered)
            for K in layer_tangent_kernels(net, x, kind=kind)]
    for block in (None, 1, 3, 4):
        got = layer_alignments(net, x, y, kind=kind, centered=centered,
                               class_block=block)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_dead_layer_is_an_error_not_nan() -> None:
    # Zero readout weights: no gradient reaches the hidden layers.
    net = MLP("relu", 2, 8, 3, 2, 2.0, 0.0, device="cpu", dtype="float64", seed=0)
    with torch.no_grad():
        net.layer(3).weight.zero_()
    x = torch.randn(6, 3, dtype=torch.float64)
    with pytest.raises(AlignmentError, match=r"kernel of layer 2 is zero"):
        layer_alignments(net, x, _labels(6, 2))
