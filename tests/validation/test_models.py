"""The MLP: mean-field initialization, forward pass, input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import sigprop as sp
from sigprop.validation import MLP


def test_initialization_variances_within_sampling_error() -> None:
    sw2, sb2 = 1.7, 0.3
    net = MLP("tanh", depth=3, width=600, in_features=50, out_features=400,
              sigma_w2=sw2, sigma_b2=sb2, device="cpu", dtype="float64", seed=3)
    for lin in net.layers():
        w = lin.weight.detach().numpy().ravel()
        b = lin.bias.detach().numpy().ravel()
        for sample, var in ((w, sw2 / lin.in_features), (b, sb2)):
            m = sample.size
            # Sample variance of m Gaussians: standard error var sqrt(2 / m).
            assert abs(sample.var() - var) < 5 * var * math.sqrt(2.0 / m)
            assert abs(sample.mean()) < 5 * math.sqrt(var / m)


def test_zero_bias_variance_gives_zero_biases() -> None:
    net = MLP("relu", 2, 16, 4, 3, 2.0, 0.0, device="cpu", seed=0)
    assert all(float(lin.bias.detach().abs().max()) == 0.0 for lin in net.layers())


def test_forward_matches_numpy_network() -> None:
    act = sp.activation("gelu")
    net = MLP(act, 4, 9, 5, 3, 1.3, 0.2, device="cpu", dtype="float64", seed=1)
    x = np.random.default_rng(0).standard_normal((7, 5))
    h = x
    for i, lin in enumerate(net.layers()):
        y = h @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
        h = act(y) if i < net.depth else y
    got = net(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, h, rtol=1e-12, atol=1e-13)


def test_seed_determines_parameters_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = MLP("relu", 3, 8, 4, 2, device="cpu", seed=5)
    b = MLP("relu", 3, 8, 4, 2, device="cpu", seed=5)
    c = MLP("relu", 3, 8, 4, 2, device="cpu", seed=6)
    assert torch.equal(torch.random.get_rng_state(), before)
    for la, lb, lc in zip(a.layers(), b.layers(), c.layers(), strict=True):
        assert torch.equal(la.weight, lb.weight)
        assert not torch.equal(la.weight, lc.weight)


def test_float64_and_layer_count() -> None:
    net = MLP("erf", 5, 8, 3, 2, device="cpu", dtype="float64", seed=0)
    assert net.dtype == torch.float64
    assert net.num_layers == 6 and len(net.layers()) == 6
    assert net.layer(6).out_features == 2 and net.layer(1).in_features == 3


@pytest.mark.parametrize("name", sorted(sp.registered_activations()))
def test_every_registered_activation_runs(name: str) -> None:
    net = MLP(name, 3, 8, 4, 2, 1.0, 0.1, device="cpu", seed=0)
    out = net(torch.randn(5, 4))
    assert out.shape == (5, 2) and bool(torch.isfinite(out).all())


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"depth": 0}, r"`depth` must be a positive integer.*got 0"),
        ({"width": -3}, r"`width` must be a positive integer; got -3"),
        ({"sigma_w2": -1.0}, r"`sigma_w2` must be a finite number >= 0.*-1.0"),
        ({"sigma_b2": float("nan")}, r"`sigma_b2` must be a finite number"),
        ({"dtype": "float16"}, r"`dtype` must be one of \['float32', 'float64'\]"),
        ({"device": "tpu"}, r"`device` must be"),
    ],
)
def test_bad_arguments_are_named(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "activation": "relu", "depth": 2, "width": 4, "in_features": 3,
        "out_features": 2, "device": "cpu",
    }
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        MLP(**args)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_request_without_cuda_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"no CUDA device is available"):
        MLP("relu", 2, 4, 3, 2, device="cuda")


def test_auto_device_is_cpu_without_cuda() -> None:
    net = MLP("relu", 2, 4, 3, 2, device="auto")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert net.device.type == expected
