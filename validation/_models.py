"""The fully connected network of THEORY.md section 1, with mean-field init.

Notation (THEORY.md section 1): ``L`` hidden layers of width ``N``, input
``h^0 = x`` in ``R^d``, linear layers ``l = 1..L+1``,

    y^l = W^l h^{l-1} + b^l,   h^l = phi(y^l),   f = y^{L+1},

standard (PyTorch fan-in) parameterization, every layer including the readout
initialized as ``W^l_ij ~ N(0, sigma_w2 / n_{l-1})`` and ``b^l_i ~ N(0,
sigma_b2)``. ``sigma_w2`` and ``sigma_b2`` are variances (squares), as in the
core.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, cast

import torch

import sigprop as sp
from sigprop._errors import InvalidParameterError
from sigprop._validate import check_depth, check_variance

from ._device import resolve_device, resolve_dtype

__all__ = ["MLP", "ForwardTrace"]

logger = logging.getLogger(__name__)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            f"`{name}` must be a positive integer; got {value!r}."
        )
    return value


@dataclass(frozen=True)
class ForwardTrace:
    """What a forward pass leaves for the layer kernels.

    Attributes
    ----------
    inputs : list of torch.Tensor
        ``h^{l-1}``, the input of linear layer ``l``, for ``l = 1..L+1``
        (``inputs[0]`` is the network input), each ``(n, n_{l-1})``.
    slopes : list of torch.Tensor
        ``phi'(y^l)`` for the hidden layers ``l = 1..L``, each ``(n, N)``.
    output : torch.Tensor
        ``f = y^{L+1}``, ``(n, C)``.
    """

    inputs: list[torch.Tensor]
    slopes: list[torch.Tensor]
    output: torch.Tensor


class MLP(torch.nn.Module):
    """Fully connected network with the exact mean-field initialization.

    Parameters
    ----------
    activation : str or sigprop.Activation
        Any activation the core knows (``sp.activation(spec)``); the network
        applies ``Activation.torch``, the same definition the theory evaluates.
    depth : int
        ``L``, the number of hidden layers (so ``L + 1`` linear layers).
    width : int
        ``N``, the width of every hidden layer.
    in_features, out_features : int
        ``d`` and ``C``.
    sigma_w2, sigma_b2 : float
        Weight and bias variances (squares), ``>= 0``.
    device : str or torch.device, default "auto"
        ``"auto"`` uses CUDA when present, otherwise the CPU.
    dtype : {"float32", "float64"} or torch.dtype, default "float32"
    seed : int, optional
        Seed of the initialization. The parameters are drawn on the CPU with
        a private generator and then moved, so a seed gives the same network
        on every device, and the global torch RNG is left alone.

    Attributes
    ----------
    linears : torch.nn.ModuleList
        The ``L + 1`` linear layers; ``linears[l - 1]`` is layer ``l`` of
        THEORY.md (``linears[0]`` the input layer, ``linears[-1]`` the
        readout).

    Notes
    -----
    No normalization and no dropout: the network is the one the mean-field
    recursions describe. Layer numbering is THEORY.md's throughout the
    validation package: linear layer ``l`` produces ``y^l``, so its measured
    alignment is compared with the predicted ``l*`` directly.
    """

    def __init__(
        self,
        activation: Any,
        depth: int,
        width: int,
        in_features: int,
        out_features: int,
        sigma_w2: float = 2.0,
        sigma_b2: float = 0.0,
        *,
        device: Any = "auto",
        dtype: Any = "float32",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.act = sp.activation(activation)
        self.depth = check_depth(depth)
        self.width = _check_positive_int("width", width)
        self.in_features = _check_positive_int("in_features", in_features)
        self.out_features = _check_positive_int("out_features", out_features)
        self.sigma_w2 = check_variance("sigma_w2", sigma_w2)
        self.sigma_b2 = check_variance("sigma_b2", sigma_b2)
        dev = resolve_device(device)
        dt = resolve_dtype(dtype)
        sizes = [self.in_features] + [self.width] * self.depth + [self.out_features]
        # skip_init: torch's own initialization would draw from (and move)
        # the global RNG before reset_parameters overwrites it.
        self.linears = torch.nn.ModuleList(
            torch.nn.utils.skip_init(torch.nn.Linear, sizes[i], sizes[i + 1], dtype=dt)
            for i in range(self.depth + 1)
        )
        self.reset_parameters(seed)
        self.to(dev)
        logger.debug(
            "MLP %s L=%d N=%d d=%d C=%d sigma_w2=%g sigma_b2=%g on %s (%s)",
            self.act.name, self.depth, self.width, self.in_features,
            self.out_features, self.sigma_w2, self.sigma_b2, dev, dt,
        )

    # -- initialization -----------------------------------------------------

    @torch.no_grad()
    def reset_parameters(self, seed: int | None = None) -> None:
        """Draw ``W ~ N(0, sigma_w2 / fan_in)``, ``b ~ N(0, sigma_b2)`` again."""
        gen = torch.Generator(device="cpu")
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        sw, sb = math.sqrt(self.sigma_w2), math.sqrt(self.sigma_b2)
        for lin in self.layers():
            w = torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64)
            b = torch.randn(lin.bias.shape, generator=gen, dtype=torch.float64)
            lin.weight.copy_(w * (sw / math.sqrt(lin.in_features)))
            lin.bias.copy_(b * sb)

    # -- evaluation ---------------------------------------------------------

    def layers(self) -> list[torch.nn.Linear]:
        """The linear layers, ``layers()[l - 1]`` being layer ``l``."""
        return [cast(torch.nn.Linear, m) for m in self.linears]

    def layer(self, l: int) -> torch.nn.Linear:  # noqa: E741 (THEORY.md's l)
        """Linear layer ``l`` (1 = input layer, ``L + 1`` = readout)."""
        if not 1 <= l <= self.num_layers:
            raise InvalidParameterError(
                f"`l` must be a linear-layer index in 1..{self.num_layers}; got "
                f"{l!r}."
            )
        return cast(torch.nn.Linear, self.linears[l - 1])

    @property
    def device(self) -> torch.device:
        """The device the parameters live on."""
        return self.layer(1).weight.device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the parameters."""
        return self.layer(1).weight.dtype

    @property
    def num_layers(self) -> int:
        """``L + 1``, the number of linear layers."""
        return self.depth + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` for a batch ``x`` of shape ``(n, d)``."""
        h = x
        for lin in self.layers()[:-1]:
            h = self.act.torch(lin(h))
        out: torch.Tensor = self.layer(self.num_layers)(h)
        return out

    def preactivations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[y^1, ..., y^{L+1}]`` for a batch ``x``."""
        ys = []
        h = x
        for i, lin in enumerate(self.layers()):
            y = lin(h)
            ys.append(y)
            if i < self.depth:
                h = self.act.torch(y)
        return ys

    def trace(self, x: torch.Tensor) -> ForwardTrace:
        """Forward pass keeping each layer's input and ``phi'(y^l)``.

        ``phi'`` is obtained by autograd through ``Activation.torch`` (an
        elementwise function, so the gradient of its sum is its derivative),
        which keeps one definition of the activation in torch. Parameters get
        no gradient.
        """
        inputs: list[torch.Tensor] = []
        slopes: list[torch.Tensor] = []
        h = x.detach()
        with torch.no_grad():
            for lin in self.layers()[:-1]:
                inputs.append(h)
                y = lin(h).detach().requires_grad_(True)
                with torch.enable_grad():
                    hy = self.act.torch(y)
                    (dy,) = torch.autograd.grad(hy.sum(), y)
                slopes.append(dy.detach())
                h = hy.detach()
            inputs.append(h)
            out = self.layer(self.num_layers)(h)
        return ForwardTrace(inputs=inputs, slopes=slopes, output=out)

    def extra_repr(self) -> str:
        return (
            f"activation={self.act.name!r}, depth={self.depth}, width={self.width}, "
            f"sigma_w2={self.sigma_w2:g}, sigma_b2={self.sigma_b2:g}"
        )
