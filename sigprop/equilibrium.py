r"""Information curves and the equilibrium layer (THEORY.md, section 5).

Forward information :math:`F(l) = |c^l - c^*|` for ``l = 0..L`` and backward
information :math:`B(l) = \tilde c^l` for ``l = 1..L+1``; the equilibrium
layer :math:`l^*` is the first crossing of :math:`F - B` from positive to
non-positive, interpolated linearly between the two integer layers around it.
``depth`` is the number of hidden layers ``L``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import EquilibriumError, InvalidParameterError
from ._validate import check_correlation, check_depth, check_real

if TYPE_CHECKING:
    from .meanfield import MeanField

__all__ = ["Crossing", "Equilibrium", "equilibrium", "equilibrium_for_data"]

MIN_SEPARATION = 1e-10


@dataclass(frozen=True)
class Crossing:
    """A sign change of ``F - B`` between layers ``lower`` and ``lower + 1``.

    Attributes
    ----------
    layer : float
        Interpolated position of the zero of ``F - B``.
    direction : str
        ``"down"`` (``F - B`` goes from positive to non-positive: a balance
        point) or ``"up"``.
    """

    layer: float
    direction: str


@dataclass(frozen=True)
class Equilibrium:
    """Result of an equilibrium-layer computation.

    Attributes
    ----------
    layer : float
        The equilibrium layer :math:`l^*` (1 when ``boundary == "below"``,
        ``L`` when ``boundary == "above"``).
    boundary : None, "below" or "above"
        ``"below"`` when ``F(1) <= B(1)`` (the balance lies at or below the
        first layer), ``"above"`` when ``F - B`` never turns non-positive up to
        ``L``; ``None`` for an interior crossing.
    crossings : tuple of Crossing
        Every sign change of ``F - B`` over ``l = 1..L``, in order.
    forward : ndarray, shape (L + 1,)
        ``F(l)`` for ``l = 0..L``.
    backward : ndarray, shape (L + 1,)
        ``B(l)`` for ``l = 1..L+1``.
    depth : int
        ``L``, the number of hidden layers.
    c_star : float
        The correlation fixed point used in ``F``.
    """

    layer: float
    boundary: str | None
    crossings: tuple[Crossing, ...]
    forward: np.ndarray = field(repr=False)
    backward: np.ndarray = field(repr=False)
    depth: int = 0
    c_star: float = 1.0

    @property
    def fraction(self) -> float:
        """``layer / L``."""
        return self.layer / self.depth

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (curves as lists)."""
        return {
            "layer": self.layer,
            "boundary": self.boundary,
            "fraction": self.fraction,
            "depth": self.depth,
            "c_star": self.c_star,
            "crossings": [
                {"layer": c.layer, "direction": c.direction} for c in self.crossings
            ],
            "forward": self.forward.tolist(),
            "backward": self.backward.tolist(),
        }


def crossing_layer(
    forward: np.ndarray, backward: np.ndarray, depth: int, c_star: float = 1.0
) -> Equilibrium:
    """The equilibrium layer from the curves ``F(0..L)`` and ``B(1..L+1)``.

    Parameters
    ----------
    forward : array_like, shape (L + 1,)
        ``F(l)`` for ``l = 0..L``.
    backward : array_like, shape (L + 1,)
        ``B(l)`` for ``l = 1..L+1``.
    depth : int
        ``L``, the number of hidden layers.
    c_star : float
        Recorded in the result.
    """
    fwd = np.asarray(forward, dtype=float)
    bwd = np.asarray(backward, dtype=float)
    if fwd.shape != (depth + 1,) or bwd.shape != (depth + 1,):
        raise InvalidParameterError(
            f"`forward` and `backward` must both have shape ({depth + 1},) for "
            f"depth {depth}; got {fwd.shape} and {bwd.shape}."
        )
    if not (np.all(np.isfinite(fwd)) and np.all(np.isfinite(bwd))):
        raise EquilibriumError("the information curves contain non-finite values.")
    # d[i] = F(l) - B(l) at l = i + 1, for l = 1..L
    d = fwd[1:] - bwd[:-1]
    crossings: list[Crossing] = []
    for i in range(depth - 1):
        a, b = d[i], d[i + 1]
        if a > 0 >= b:
            crossings.append(Crossing(i + 1 + a / (a - b), "down"))
        elif a <= 0 < b:
            crossings.append(Crossing(i + 1 + (-a) / (b - a), "up"))
    if d[0] <= 0:
        layer, boundary = 1.0, "below"
    else:
        downs = [c for c in crossings if c.direction == "down"]
        if downs:
            layer, boundary = downs[0].layer, None
        else:
            layer, boundary = float(depth), "above"
    return Equilibrium(
        layer=float(layer),
        boundary=boundary,
        crossings=tuple(crossings),
        forward=fwd,
        backward=bwd,
        depth=depth,
        c_star=c_star,
    )


def equilibrium(
    mf: MeanField,
    depth: int,
    c0: float = 0.0,
    *,
    min_separation: float = MIN_SEPARATION,
) -> Equilibrium:
    r"""Equilibrium layer for two inputs at ``q_star`` with correlation ``c0``.

    Parameters
    ----------
    mf : MeanField
        Activation and initialization.
    depth : int
        Number of hidden layers ``L`` (``L + 1`` linear layers).
    c0 : float, default 0.0
        Initial correlation :math:`c^0` in [-1, 1].
    min_separation : float, default 1e-10
        Smallest :math:`|c^0 - c^*|` for which ``F`` means anything.

    Returns
    -------
    Equilibrium

    Raises
    ------
    EquilibriumError
        When :math:`|c^0 - c^*| < ` ``min_separation``.

    Examples
    --------
    ReLU at its edge of chaos (THEORY.md, section 6, predicts about
    :math:`2.13 L^{0.6}`):

    >>> import sigprop as sp
    >>> eq = sp.MeanField("relu", 2.0, 0.0).equilibrium(1000)
    >>> eq.boundary is None, round(eq.layer / 1000**0.6, 1)
    (True, 2.0)
    """
    depth = check_depth(depth)
    c0 = check_correlation("c0", c0)
    min_separation = check_real("min_separation", min_separation)
    c_star = mf.c_star
    if abs(c0 - c_star) < min_separation:
        raise EquilibriumError(
            f"`c0` = {c0!r} is within {min_separation:g} of the correlation fixed "
            f"point c* = {c_star!r}: the forward information F(l) = |c^l - c*| "
            "is zero from the start and defines no equilibrium. Use inputs that "
            "differ (c0 further from c*)."
        )
    if c_star == 1.0:
        eps = mf.forward_eps(depth, c0)
        fwd = np.abs(eps)
        c = 1.0 - eps
    else:
        delta = _chaotic_deviation(mf, depth, c0, c_star)
        fwd = np.abs(delta)
        c = c_star + delta
    bwd = mf._backward_from(c)
    return crossing_layer(fwd, bwd, depth, c_star)


_LINEARIZE_BELOW = 1e-6


def _chaotic_deviation(mf: MeanField, depth: int, c0: float, c_star: float) -> Any:
    """``delta^l = c^l - c*`` for ``l = 0..L``, accurate far below 1e-16.

    Computing ``c^l - c*`` as a difference stalls at the rounding error of
    ``c*`` (about 1e-16) while the true deviation keeps shrinking like
    ``chi_c^l``; deep chaotic networks would then see ``F`` flatten at 1e-16.
    Once ``|delta| < 1e-6`` the recursion switches to its second-order
    Taylor form ``delta' = f'(c*) delta + f''(c*) delta^2 / 2``, whose
    neglected term is ``O(delta^3)``.
    """
    delta = np.empty(depth + 1)
    c = c0
    delta[0] = c0 - c_star
    chi_c = mf.chi_c
    h = 1e-4
    f2 = (float(mf.c_map_slope(min(c_star + h, 1.0))) - float(
        mf.c_map_slope(c_star - h)
    )) / (min(c_star + h, 1.0) - (c_star - h))
    linear = False
    for layer in range(1, depth + 1):
        d = delta[layer - 1]
        if not linear and abs(d) < _LINEARIZE_BELOW:
            linear = True
        if linear:
            delta[layer] = chi_c * d + 0.5 * f2 * d * d
        else:
            c = float(mf.c_map(c))
            delta[layer] = c - c_star
    return delta


def equilibrium_for_data(
    mf: MeanField, X: Any, depth: int, *, kernels: Any = None
) -> Equilibrium:
    """Dataset-level equilibrium layer.

    ``F(l)`` is the mean over distinct pairs of :math:`|c^l_{ab} - c^*|` and
    ``B(l)`` the mean of :math:`\\tilde c^l_{ab}`, both propagated exactly from
    the data (unequal norms included); ``c^0`` is the cosine similarity of the
    inputs.

    Parameters
    ----------
    mf : MeanField
        Activation and initialization.
    X : array_like, shape (n, d)
        Inputs, ``n >= 2``.
    depth : int
        Number of hidden layers ``L``.
    kernels : LayerKernels, optional
        Kernels already computed by :meth:`MeanField.kernels` for the same
        ``X`` and ``depth``.

    Returns
    -------
    Equilibrium

    Notes
    -----
    In the chaotic phase each pair's ``|c^l_ab - c*|`` is a difference of two
    numbers, so it stalls at about 1e-16 once the true deviation falls below
    that (after a few hundred layers); the scalar :func:`equilibrium`
    propagates the deviation itself and has no such floor.
    """
    from .kernels import layer_kernels, pair_curves

    depth = check_depth(depth)
    k = kernels if kernels is not None else layer_kernels(mf, X, depth)
    c_star = mf.c_star
    fwd, bwd = pair_curves(k, c_star)
    if fwd[0] < MIN_SEPARATION:
        raise EquilibriumError(
            "the inputs are all (numerically) at the correlation fixed point "
            f"c* = {c_star!r}: F(0) = {fwd[0]:g} defines no equilibrium."
        )
    return crossing_layer(fwd, bwd, depth, c_star)
