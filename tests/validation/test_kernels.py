"""Layer tangent kernels against brute-force per-example Jacobians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sigprop.validation import (
    MLP,
    KernelMemoryError,
    jacobian_layer_kernels,
    kernel_memory_estimate,
    layer_tangent_kernels,
)

CASES = [
    ("relu", 2.0, 0.0),
    ("tanh", 1.5, 0.3),
    ("erf", 1.2, 0.1),
    ("gelu", 1.8, 0.05),
    ("leaky_relu", 1.9, 0.2),
]


def _net(name: str, sw2: float, sb2: float, C: int = 3) -> MLP:
    return MLP(name, depth=4, width=11, in_features=6, out_features=C,
               sigma_w2=sw2, sigma_b2=sb2, device="cpu", dtype="float64", seed=7)


def _x(n: int = 8, d: int = 6) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(("name", "sw2", "sb2"), CASES)
@pytest.mark.parametrize("kind", ["traced", "full"])
@pytest.mark.parametrize("include_bias", [True, False])
def test_matches_brute_force_jacobian_to_float64_precision(
    name: str, sw2: float, sb2: float, kind: str, include_bias: bool
) -> None:
    net, x = _net(name, sw2, sb2), _x()
    fast = layer_tangent_kernels(net, x, kind=kind, include_bias=include_bias)
    slow = jacobian_layer_kernels(net, x, kind=kind, include_bias=include_bias)
    assert len(fast) == len(slow) == net.num_layers
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == b.shape
        # A few ulps of the kernel's scale: float64 agreement, not a loose fit.
        scale = float(b.abs().max())
        assert float((a - b).abs().max()) <= 1e-13 * scale


def test_full_kernel_layout_is_example_major_and_traces_to_traced() -> None:
    net, x = _net("tanh", 1.5, 0.3), _x()
    n, C = x.shape[0], net.out_features
    full = layer_tangent_kernels(net, x, kind="full")
    traced = layer_tangent_kernels(net, x, kind="traced")
    for F, T in zip(full, traced, strict=True):
        diag = F.view(n, C, n, C).diagonal(dim1=1, dim2=3).sum(-1)
        torch.testing.assert_close(diag, T, rtol=1e-13, atol=0)
    # Readout layer: d f_c / d W^{L+1}_{c'} vanishes unless c = c'.
    readout = full[-1].view(n, C, n, C)
    off = readout[:, 0, :, 1]
    assert float(off.abs().max()) == 0.0


def test_class_blocks_and_layer_subset_agree_with_one_block() -> None:
    net, x = _net("erf", 1.2, 0.1, C=5), _x()
    whole = layer_tangent_kernels(net, x, kind="full")
    blocked = layer_tangent_kernels(net, x, kind="full", class_block=2)
    for a, b in zip(whole, blocked, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)
    some = layer_tangent_kernels(net, x, kind="full", layers=[4, 2])
    torch.testing.assert_close(some[0], whole[1])
    torch.testing.assert_close(some[1], whole[3])


def test_float32_close_to_float64() -> None:
    net64 = _net("tanh", 1.5, 0.3)
    net32 = MLP("tanh", 4, 11, 6, 3, 1.5, 0.3, device="cpu", dtype="float32", seed=7)
    x = _x()
    for a, b in zip(layer_tangent_kernels(net32, x),
                    layer_tangent_kernels(net64, x), strict=True):
        assert a.dtype == torch.float32
        rel = float((a.double() - b).abs().max() / b.abs().max())
        assert rel < 1e-5


def test_weights_plus_bias_is_weights_plus_backward_gram() -> None:
    # K_wb - K_w = sum_c D_c D_c^T (the bias part), which is the readout
    # layer's backward Gram: C times all-ones at l = L+1.
    net, x = _net("relu", 2.0, 0.0), _x()
    wb = layer_tangent_kernels(net, x, include_bias=True)
    w = layer_tangent_kernels(net, x, include_bias=False)
    C = net.out_features
    torch.testing.assert_close(
        wb[-1] - w[-1], torch.full_like(w[-1], float(C)), rtol=1e-12, atol=1e-12
    )


def test_memory_estimate_guards_the_call() -> None:
    net, x = _net("relu", 2.0, 0.0), _x()
    est = kernel_memory_estimate(net, x.shape[0], kind="full")
    s, n, C, L1 = 8, x.shape[0], net.out_features, net.num_layers
    assert est.output == s * (n * C) ** 2 * L1
    assert est.total >= est.output + s * n * (net.in_features + 2 * net.depth * 11)
    with pytest.raises(KernelMemoryError, match=r"more than `max_memory`"):
        layer_tangent_kernels(net, x, kind="full", max_memory=est.total - 1)
    assert len(layer_tangent_kernels(net, x, kind="full", max_memory=est.total)) == L1


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"kind": "diag"}, r"`kind` must be one of \['full', 'traced'\].*'diag'"),
        ({"layers": [0]}, r"`layers` must be .* in 1\.\.5"),
        ({"layers": [6]}, r"`layers` must be"),
        ({"class_block": 0}, r"`class_block` must be an integer in 1\.\.3"),
    ],
)
def test_bad_arguments(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        layer_tangent_kernels(_net("relu", 2.0, 0.0), _x(), **kw)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    net = _net("relu", 2.0, 0.0)
    with pytest.raises(ValueError, match=r"`X` must have shape \(n, 6\)"):
        layer_tangent_kernels(net, np.zeros((4, 5)))
    bad = np.zeros((4, 6))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"`X` contains NaN"):
        layer_tangent_kernels(net, bad)
