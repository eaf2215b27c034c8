"""Activation.torch against the numpy evaluation, values and derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sigprop as sp

NAMES = sorted(sp.registered_activations())


def _grid(act: sp.Activation) -> np.ndarray:
    x = np.linspace(-6.0, 6.0, 1201)
    # Stay clear of kinks, where the one-sided derivatives differ.
    for k in act.kinks:
        x = x[np.abs(x - k) > 1e-6]
    return x


@pytest.mark.parametrize("name", NAMES)
def test_torch_value_matches_numpy(name: str) -> None:
    act = sp.activation(name)
    x = _grid(act)
    got = act.torch(torch.as_tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, act(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_torch_autograd_derivative_matches_numpy(name: str) -> None:
    act = sp.activation(name)
    x = _grid(act)
    t = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
    (g,) = torch.autograd.grad(act.torch(t).sum(), t)
    np.testing.assert_allclose(g.numpy(), act.derivative(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "spec", [("leaky_relu", {"alpha": 0.2}), ("elu", {"alpha": 0.5})]
)
def test_parameterized_activations_in_torch(spec: tuple[str, dict[str, float]]) -> None:
    act = sp.activation(spec[0], **spec[1])
    x = _grid(act)
    t = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
    y = act.torch(t)
    (g,) = torch.autograd.grad(y.sum(), t)
    np.testing.assert_allclose(y.detach().numpy(), act(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g.numpy(), act.derivative(x), rtol=1e-10, atol=1e-12)


def test_expression_activation_in_torch() -> None:
    act = sp.activation("x*tanh(x)")
    x = _grid(act)
    got = act.torch(torch.as_tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, x * np.tanh(x), rtol=1e-12, atol=1e-14)
