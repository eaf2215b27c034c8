r"""Mean-field signal propagation of one activation and initialization.

Notation (THEORY.md, sections 1-3): weights have variance
``sigma_w2 / fan_in`` and biases variance ``sigma_b2`` (both are squares of
standard deviations), ``q`` is the variance of a pre-activation, ``c`` the
correlation of two, ``V(q) = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2`` the
length map with stable fixed point ``q_star``, and ``f(c)`` the correlation
map at ``q_star`` with stable fixed point ``c_star``. The slopes are
``chi_1 = f'(1)``, ``chi_c = f'(c_star)``, ``chi_q = V'(q_star)``; the depth
scales are ``xi_q = -1/ln chi_q`` and ``xi_c = -1/ln chi_c``.

``depth`` is always the number of hidden layers ``L``: the network has
``L + 1`` linear layers, the last one being the readout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import optimize

from ._errors import (
    ConvergenceError,
    IndeterminateFixedPointError,
    InvalidParameterError,
    NoFixedPointError,
)
from ._validate import check_correlation, check_depth, check_variance
from .activations import Activation, activation
from .gaussian import GaussianExpectations, expectations_for

__all__ = ["MeanField", "Phase"]

Phase = str  # "ordered" | "chaotic" | "edge"

_EDGE_RTOL = 1e-9  # |chi_1 - 1| below this (relative) is the edge of chaos
_Q_MAX = 1e12  # a length map still growing here has no finite fixed point


@dataclass(frozen=True)
class _QStar:
    value: float | None  # None: every q is a fixed point
    reason: str | None = None  # why there is none, when value is None and it's an error


class MeanField:
    r"""Infinite-width signal propagation for one activation and initialization.

    Parameters
    ----------
    activation : str, Activation or callable
        Anything :func:`sigprop.activation` accepts.
    sigma_w2 : float
        Weight variance :math:`\sigma_w^2` (weights are
        :math:`N(0, \sigma_w^2/\text{fan-in})`), finite and >= 0.
    sigma_b2 : float, default 0.0
        Bias variance :math:`\sigma_b^2`, finite and >= 0.
    dps : int, optional
        Decimal digits of a high-precision computation: with ``dps=N`` (at
        least 16) the constructor returns a :class:`sigprop._mp.MPMeanField`
        whose values are mpmath numbers good to ``N`` digits; ``None``
        (default) is float64.

    Raises
    ------
    InvalidParameterError
        Negative or non-finite variances; ``dps`` below 16.

    Notes
    -----
    When the length map has no finite stable fixed point (ReLU with
    ``sigma_w2 > 2``, or ``sigma_w2 = 2`` with ``sigma_b2 > 0``), everything
    defined at ``q*`` (``q_star``, the maps, slopes, phase, equilibrium)
    raises :class:`~sigprop.NoFixedPointError`; :meth:`kernels`, which
    propagates a finite depth from the data, still works.

    For positively homogeneous activations at their critical point (ReLU at
    ``(2, 0)``) every ``q`` is a fixed point: :attr:`q_star` raises
    :class:`~sigprop.IndeterminateFixedPointError`, while the correlation map,
    its slopes and the equilibrium layer, none of which depend on ``q``, are
    available.

    Examples
    --------
    ReLU at its edge of chaos has the arc-cosine correlation map, so
    :math:`f(0) = 1/\pi`:

    >>> import math, sigprop as sp
    >>> mf = sp.MeanField("relu", sigma_w2=2.0, sigma_b2=0.0)
    >>> mf.phase, abs(mf.c_map(0.0) - 1 / math.pi) < 1e-15
    ('edge', True)
    """

    def __new__(cls, *args: Any, dps: int | None = None, **kwargs: Any) -> Any:
        # dps=N: the mpmath implementation (sigprop._mp.MPMeanField) instead
        if dps is None:
            return super().__new__(cls)
        from ._mp import MPMeanField

        spec = args[0] if args else kwargs.pop("activation", None)
        rest = args[1:]
        return MPMeanField(spec, *rest, dps=dps, **kwargs)

    def __init__(
        self,
        activation_: str | Activation | Any = None,
        sigma_w2: float | None = None,
        sigma_b2: float = 0.0,
        *,
        activation: Any = None,
        dps: int | None = None,
    ) -> None:
        spec = activation_ if activation_ is not None else activation
        if spec is None:
            raise InvalidParameterError("`activation` is required.")
        if sigma_w2 is None:
            raise InvalidParameterError(
                "`sigma_w2` is required; `sp.edge_of_chaos(activation, sigma_b2)` "
                "gives the edge-of-chaos value."
            )
        self.activation: Activation = _activation(spec)
        self.sigma_w2 = check_variance("sigma_w2", sigma_w2)
        self.sigma_b2 = check_variance("sigma_b2", sigma_b2)
        self._g: GaussianExpectations = expectations_for(self.activation)

    def __repr__(self) -> str:
        return (
            f"MeanField({self.activation.name!r}, sigma_w2={self.sigma_w2!r}, "
            f"sigma_b2={self.sigma_b2!r})"
        )

    # -- length map and q* ------------------------------------------------------------

    def q_map(self, q: Any) -> Any:
        """Length map :math:`V(q) = \\sigma_w^2 E[\\phi(\\sqrt q z)^2] + \\sigma_b^2`.

        Parameters
        ----------
        q : float or array_like
            Pre-activation variances, >= 0.
        """
        arr = np.asarray(q, dtype=float)
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise InvalidParameterError(
                f"`q` must be finite variances >= 0; got {q!r}."
            )
        out = self.sigma_w2 * self._g.e_phi2(arr) + self.sigma_b2
        return float(out) if np.ndim(q) == 0 else out

    @cached_property
    def _q_star_info(self) -> _QStar:
        act = self.activation
        sw, sb = self.sigma_w2, self.sigma_b2
        if self._g.engine == "piecewise_linear":
            m = self._g._m2()
            crit = 1.0 / m
            if sw * m < 1.0:
                return _QStar(sb / (1.0 - sw * m))
            if sw * m == 1.0 and sb == 0.0:
                return _QStar(None)
            return _QStar(
                None,
                f"no finite fixed point q* for {act.name} with sigma_w2={sw:g}, "
                f"sigma_b2={sb:g}: its length map V(q) = {sw * m:g} q + {sb:g} "
                f"grows without bound. Use sigma_w2 < {crit:g}, or sigma_w2 = "
                f"{crit:g} with sigma_b2 = 0 (its edge of chaos).",
            )
        return _QStar(self._solve_q_star())

    def _solve_q_star(self) -> float:
        """Stable fixed point of V reached by iterating from ``q = sw + sb``.

        ``sigma_w2 + sigma_b2`` is the first-layer variance of an input with
        ``|x|^2 / d = 1``. The iteration ``q <- V(q)`` moves monotonically
        towards the next root of ``G(q) = V(q) - q`` in the direction of the
        sign of ``G(q0)``; that root is bracketed by doubling (or halving) and
        polished by Brent's method.
        """
        q0 = max(self.sigma_w2 + self.sigma_b2, 1e-12)

        def gfun(q: float) -> float:
            return float(self.sigma_w2 * self._g.e_phi2(np.array([q]))[0]) + (
                self.sigma_b2 - q
            )

        g0 = gfun(q0)
        if g0 == 0.0:
            return q0
        lo = hi = q0
        if g0 > 0:  # iteration increases: first sign change above q0
            while True:
                lo, hi = hi, 2.0 * hi
                if hi > _Q_MAX:
                    raise NoFixedPointError(
                        f"no finite fixed point q* for {self.activation.name} with "
                        f"sigma_w2={self.sigma_w2:g}, sigma_b2={self.sigma_b2:g}: "
                        f"the length map still grows at q = {_Q_MAX:g}. Use a "
                        "smaller sigma_w2."
                    )
                if gfun(hi) <= 0:
                    break
        else:  # iteration decreases: first sign change below q0
            while True:
                hi, lo = lo, 0.5 * lo
                if lo < 1e-30:
                    if gfun(0.0) >= 0.0:
                        lo = 0.0
                        if gfun(0.0) == 0.0 and gfun(hi) < 0:
                            # V(0) = 0 and no positive root below q0: q* = 0
                            return self._refine_zero_root(hi, gfun)
                        break
                    raise NoFixedPointError(  # pragma: no cover - V(0) >= 0 always
                        f"the length map of {self.activation.name} is negative."
                    )
                if gfun(lo) >= 0:
                    break
        root = optimize.brentq(
            gfun, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500
        )
        return float(root)

    def _refine_zero_root(self, hi: float, gfun: Any) -> float:
        """Decide between q* = 0 and a tiny positive root in (0, hi]."""
        grid = np.geomspace(1e-300, hi, 200)
        vals = np.array([gfun(q) for q in grid[::-1]])
        # scanning down from hi: a sign change means a positive stable root
        pos = np.nonzero(vals >= 0)[0]
        if pos.size == 0 or vals[pos[0]] == 0.0 and pos[0] == vals.size - 1:
            return 0.0
        j = pos[0]
        qs = grid[::-1]
        return float(
            optimize.brentq(gfun, qs[j], qs[j - 1], xtol=1e-300, rtol=1e-15)
        )

    @property
    def q_star(self) -> float:
        """Stable fixed point of the length map.

        Raises
        ------
        IndeterminateFixedPointError
            At the critical point of a scale-invariant activation, where every
            ``q`` is a fixed point.
        """
        fp = self._q_star_info
        if fp.value is None and fp.reason is not None:
            raise NoFixedPointError(fp.reason)
        if fp.value is None:
            raise IndeterminateFixedPointError(
                f"every q is a fixed point of the length map of "
                f"{self.activation.name} at sigma_w2={self.sigma_w2:g}, "
                f"sigma_b2=0: V(q) = q. The correlation map does not depend on q, "
                "so c_map, chi_1, chi_c and the equilibrium layer are defined."
            )
        return fp.value

    @property
    def _q(self) -> float:
        """``q*``, or 1 where every q is a fixed point (the c-map ignores q)."""
        fp = self._q_star_info
        if fp.value is None and fp.reason is not None:
            raise NoFixedPointError(fp.reason)
        return 1.0 if fp.value is None else fp.value

    # -- correlation map --------------------------------------------------------------

    def c_map(self, c: Any) -> Any:
        """Correlation map :math:`f(c)` for inputs at ``q_star``.

        Parameters
        ----------
        c : float or array_like
            Correlations in [-1, 1].
        """
        arr = _corr_array(c)
        return _out(1.0 - self._one_minus_f(1.0 - arr), c)

    def c_map_slope(self, c: Any) -> Any:
        """Slope :math:`f'(c) = \\sigma_w^2 E[\\phi'(u_1)\\phi'(u_2)]` at ``q_star``."""
        arr = _corr_array(c)
        q = self._q
        return _out(self.sigma_w2 * self._g.e_dd(q, q, q * arr), c)

    def _one_minus_f(self, eps: np.ndarray) -> np.ndarray:
        """``1 - f(1 - eps)``, accurate in relative terms as ``eps -> 0``."""
        q = self._q
        if q == 0.0:
            return np.zeros_like(eps)
        return self.sigma_w2 * self._g.half_diffsq(q, eps) / q

    # -- fixed points, slopes, depth scales ------------------------------------------

    @cached_property
    def chi_1(self) -> float:
        """:math:`\\chi_1 = f'(1) = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]`."""
        return float(self.sigma_w2 * self._g.e_dphi2(np.array([self._q]))[0])

    @cached_property
    def chi_q(self) -> float:
        """:math:`\\chi_q = V'(q^*)`."""
        return float(self.sigma_w2 * self._g.de_phi2_dq(np.array([self._q]))[0])

    @cached_property
    def phase(self) -> Phase:
        """``"ordered"`` (``chi_1 < 1``), ``"chaotic"`` (> 1) or ``"edge"``."""
        if abs(self.chi_1 - 1.0) <= _EDGE_RTOL:
            return "edge"
        return "ordered" if self.chi_1 < 1.0 else "chaotic"

    @cached_property
    def c_star(self) -> float:
        """Stable fixed point of the correlation map (1 unless chaotic)."""
        if self.phase != "chaotic":
            return 1.0
        return self._solve_c_star()

    def _solve_c_star(self) -> float:
        def h(c: float) -> float:
            return float(self.c_map(c)) - c

        # iterate from c = 0 to land in the basin, then bracket and polish
        c = 0.0
        for _ in range(200):
            c_new = float(self.c_map(c))
            if abs(c_new - c) < 1e-13:
                c = c_new
                break
            c = c_new
        if abs(h(c)) < 1e-15:
            return c
        for width in (1e-6, 1e-4, 1e-2, 1e-1, 1.0):
            lo, hi = max(-1.0, c - width), min(c + width, 1.0 - 1e-12)
            if h(lo) > 0 > h(hi):
                return float(optimize.brentq(h, lo, hi, xtol=1e-16, rtol=1e-15))
        raise ConvergenceError(
            f"could not locate the stable correlation fixed point c* for {self!r} "
            f"(last iterate {c!r})."
        )

    @cached_property
    def chi_c(self) -> float:
        """:math:`\\chi_c = f'(c^*)`."""
        if self.c_star == 1.0:
            return self.chi_1
        return float(self.c_map_slope(self.c_star))

    @property
    def xi_q(self) -> float:
        """Depth scale of the length map, :math:`-1/\\ln\\chi_q` (inf at 1)."""
        return _depth_scale(self.chi_q)

    @property
    def xi_c(self) -> float:
        """Depth scale of correlations, :math:`-1/\\ln\\chi_c` (inf at the edge)."""
        if self.phase == "edge":
            return math.inf
        return _depth_scale(self.chi_c)

    @property
    def xi_grad(self) -> float:
        """Depth scale of gradient variances, :math:`1/|\\ln\\chi_1|`.

        THEORY.md writes ``-1/|ln chi_1|``, which is negative; the scale on
        which ``qt^l = chi_1^{L+1-l}`` grows or shrinks by ``e`` is
        ``1/|ln chi_1|``, returned here (inf at the edge).
        """
        if self.phase == "edge":
            return math.inf
        return 1.0 / abs(math.log(self.chi_1))

    # -- recursions over depth --------------------------------------------------------

    def forward(self, depth: int, c0: float = 0.0) -> np.ndarray:
        """Correlations :math:`c^0, \\dots, c^L` for inputs at ``q_star``.

        Parameters
        ----------
        depth : int
            Number of hidden layers ``L`` (the network has ``L + 1`` linear
            layers).
        c0 : float
            Correlation :math:`c^0` in [-1, 1]; ``c^{l+1} = f(c^l)``.

        Returns
        -------
        ndarray of shape (L + 1,)

        Notes
        -----
        The recursion runs on :math:`\\epsilon = 1 - c` through
        :math:`1 - f(1 - \\epsilon) = \\sigma_w^2 E[(\\phi(u_1)-\\phi(u_2))^2]/(2q^*)`,
        so no digits are lost as ``c -> 1`` (THEORY.md, section 2).
        """
        return 1.0 - self.forward_eps(depth, c0)

    def forward_eps(self, depth: int, c0: float = 0.0) -> np.ndarray:
        """:math:`\\epsilon^l = 1 - c^l` for ``l = 0..L`` (see :meth:`forward`)."""
        depth = check_depth(depth)
        c0 = check_correlation("c0", c0)
        eps = np.empty(depth + 1)
        e = 1.0 - c0
        eps[0] = e
        q = self._q
        if q == 0.0:
            eps[1:] = 0.0
            return eps
        step = self._g.diffsq_stepper(q)
        ratio = self.sigma_w2 / q
        for layer in range(1, depth + 1):
            e = ratio * step(e)
            eps[layer] = e
        return eps

    def backward(self, depth: int, c0: float = 0.0) -> np.ndarray:
        """Gradient correlations :math:`\\tilde c^1, \\dots, \\tilde c^{L+1}`.

        :math:`\\tilde c^l = \\prod_{k=l}^{L} f'(c^k)/\\chi_1` at the fixed point
        (THEORY.md, section 3), with :math:`\\tilde c^{L+1} = 1`.

        Parameters
        ----------
        depth : int
            Number of hidden layers ``L``.
        c0 : float
            Input correlation :math:`c^0`.

        Returns
        -------
        ndarray of shape (L + 1,), layer 1 first.
        """
        c = self.forward(depth, c0)
        return self._backward_from(c)

    def _backward_from(self, c: np.ndarray) -> np.ndarray:
        depth = c.size - 1
        slopes = np.asarray(self.c_map_slope(c[1:]), dtype=float)  # f'(c^1..c^L)
        with np.errstate(divide="ignore"):
            logs = np.log(np.abs(slopes / self.chi_1))
        signs = np.sign(slopes)
        # ct^l = prod_{k=l}^{L}: reversed cumulative sums, then ct^{L+1} = 1
        cum = np.concatenate([np.cumsum(logs[::-1])[::-1], [0.0]])
        sgn = np.concatenate([np.cumprod(signs[::-1])[::-1], [1.0]])
        out = sgn * np.exp(cum)
        assert out.size == depth + 1
        return out

    def gradient_variance(self, depth: int) -> np.ndarray:
        """:math:`\\tilde q^l = \\chi_1^{L+1-l}` for ``l = 1..L+1`` at ``q_star``."""
        depth = check_depth(depth)
        return self.chi_1 ** np.arange(depth, -1, -1, dtype=float)

    # -- equilibrium and kernels live in their own modules ------------------------

    def equilibrium(self, depth: int, c0: float = 0.0, **kw: Any) -> Any:
        """Equilibrium layer for a pair of inputs at correlation ``c0``.

        See :func:`sigprop.equilibrium.equilibrium`; ``depth`` is the number
        of hidden layers ``L``.
        """
        from .equilibrium import equilibrium

        return equilibrium(self, depth, c0, **kw)

    def kernels(self, X: Any, depth: int) -> Any:
        """Layer-wise infinite-width kernels of a dataset.

        See :func:`sigprop.kernels.layer_kernels`; ``depth`` is the number of
        hidden layers ``L``.
        """
        from .kernels import layer_kernels

        return layer_kernels(self, X, depth)

    def equilibrium_for_data(self, X: Any, depth: int, **kw: Any) -> Any:
        """Dataset-level equilibrium layer (THEORY.md, section 5).

        See :func:`sigprop.equilibrium.equilibrium_for_data`; ``depth`` is the
        number of hidden layers ``L``.
        """
        from .equilibrium import equilibrium_for_data

        return equilibrium_for_data(self, X, depth, **kw)

    def summary(self) -> dict[str, Any]:
        """The scalar quantities as a JSON-ready dict (``q_star`` may be a note)."""
        fp = self._q_star_info
        if fp.value is None and fp.reason is not None:
            raise NoFixedPointError(fp.reason)
        return {
            "activation": self.activation.name,
            "sigma_w2": self.sigma_w2,
            "sigma_b2": self.sigma_b2,
            "q_star": fp.value if fp.value is not None else "every q (scale-invariant)",
            "c_star": self.c_star,
            "chi_1": self.chi_1,
            "chi_c": self.chi_c,
            "chi_q": self.chi_q,
            "xi_q": self.xi_q,
            "xi_c": self.xi_c,
            "phase": self.phase,
        }


def _activation(spec: Any) -> Activation:
    return activation(spec)


def _corr_array(c: Any) -> np.ndarray:
    arr = np.asarray(c, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(np.abs(arr) > 1.0):
        raise InvalidParameterError(f"`c` must be correlations in [-1, 1]; got {c!r}.")
    return arr


def _out(arr: np.ndarray, like: Any) -> Any:
    return float(arr) if np.ndim(like) == 0 else arr


def _depth_scale(chi: float) -> float:
    if chi <= 0:
        return 0.0
    if chi == 1.0:
        return math.inf
    return -1.0 / math.log(chi)
