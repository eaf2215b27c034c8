r"""High-precision mean field: the maps and recursions in mpmath.

``sp.MeanField(activation, sigma_w2, sigma_b2, dps=30)`` returns an
:class:`MPMeanField`: the same quantities as the float64 :class:`MeanField`
(THEORY.md, sections 2, 3, 5), computed with ``dps`` decimal digits, so that
any float64 result can be checked digit by digit.

Engines
-------
``closed``
    The sympy kernel of :mod:`sigprop.symbolic` compiled for mpmath
    (ReLU, leaky ReLU, linear, erf, polynomials, sin, cos, ...).
``mehler``
    Smooth activations: Hermite coefficients
    :math:`b_k = E[\phi(\sqrt{q} z) He_k(z)]/\sqrt{k!}` at ``q*`` by
    composite Gauss-Legendre quadrature at the working precision, then
    :math:`E[\phi(u_1)\phi(u_2)] = \sum_k b_k^2 c^k` (Mehler), truncated where
    the remainder :math:`E[\phi^2] - \sum_k b_k^2` is below
    :math:`10^{-dps}` of the norm.
``quad``
    Activations with kinks and no closed form (ELU, SELU, hardtanh):
    ``mpmath.quad`` in one and two dimensions with the kinks as break points.
    Exact but slow (about a second per two-dimensional integral at 30
    digits): fine for maps and fixed points, slow for deep recursions.

Every value is an ``mpmath.mpf``. The working precision is set locally with
``mpmath.workdps`` and mpmath's global precision is never changed.
Differences near ``c = 1`` are taken with guard digits: ``1 - f(1 - eps)`` is
evaluated at ``dps + log10(1/eps) + 10`` digits, so it is good to ``dps``
digits relative however small ``eps`` is.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import mpmath
import sympy

from ._errors import (
    ConvergenceError,
    EquilibriumError,
    IndeterminateFixedPointError,
    InvalidParameterError,
    NoEdgeOfChaosError,
    NoFixedPointError,
)
from ._validate import check_depth
from .activations import Activation, activation

__all__ = ["MPMeanField", "MPEquilibrium", "edge_of_chaos_mp", "check_dps"]

logger = logging.getLogger(__name__)

#: float64 carries 15.95 decimal digits; anything below 16 is no reference
MIN_DPS = 16
_EDGE_RTOL = 1e-9  # the float64 path's tolerance for chi_1 = 1
_GUARD = 10  # extra digits carried through every computation
_KMAX = 4000  # largest Mehler truncation


@dataclass(frozen=True)
class _QStar:
    value: Any  # mpf, or None where every q is a fixed point
    reason: str | None = None


def check_dps(dps: Any) -> int:
    """``dps`` as an int >= 16, or raise naming the parameter."""
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral):
        raise InvalidParameterError(
            f"`dps` must be an integer number of decimal digits >= {MIN_DPS} (or "
            f"None for float64); got {dps!r}."
        )
    if dps < MIN_DPS:
        raise InvalidParameterError(
            f"`dps` must be >= {MIN_DPS}: float64 already carries about 16 decimal "
            f"digits, so dps={dps} would be less precise than the default; use "
            "dps=None for float64."
        )
    return int(dps)


def _to_mpf(name: str, value: Any) -> Any:
    """A variance as an mpf at the current precision (strings keep all digits)."""
    try:
        out = (
            mpmath.mpf(value)
            if not isinstance(value, sympy.Basic)
            else (mpmath.mpf(sympy.Float(value, mpmath.mp.dps + 5)))
        )
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"`{name}` must be a real number (a float, an int, a decimal string or "
            f"an mpf); got {value!r}."
        ) from exc
    if not mpmath.isfinite(out) or out < 0:
        raise InvalidParameterError(
            f"`{name}` must be a finite number >= 0 (a variance); got {value!r}."
        )
    return out


def _gl_panels(t: Any, h: Any, n: int) -> tuple[list[Any], list[Any]]:
    """Composite Gauss-Legendre nodes and ``pdf``-weights on [-t, t]."""
    x, w = mpmath.gauss_quadrature(n, "legendre")
    panels = int(mpmath.ceil(2 * t / h))
    width = 2 * t / panels
    nodes, weights = [], []
    for i in range(panels):
        a = -t + i * width
        mid, half = a + width / 2, width / 2
        for xi, wi in zip(x, w, strict=True):
            z = mid + half * xi
            nodes.append(z)
            weights.append(half * wi * mpmath.npdf(z))
    return nodes, weights


@dataclass(frozen=True)
class MPEquilibrium:
    """An equilibrium layer computed in mpmath (see :class:`Equilibrium`).

    Attributes
    ----------
    layer : mpf
        :math:`l^*` (1 or ``L`` for a boundary result).
    boundary : None, "below" or "above"
        As in :class:`~sigprop.Equilibrium`.
    crossings : tuple of (mpf, str)
        Every sign change of ``F - B``, with its direction.
    forward, backward : list of mpf
        ``F(0..L)`` and ``B(1..L+1)``.
    depth, dps : int
    """

    layer: Any
    boundary: str | None
    crossings: tuple[tuple[Any, str], ...]
    forward: list[Any] = field(repr=False)
    backward: list[Any] = field(repr=False)
    depth: int = 0
    dps: int = MIN_DPS

    @property
    def fraction(self) -> Any:
        """``layer / L``."""
        return self.layer / self.depth


class MPMeanField:
    r"""Mean-field signal propagation at ``dps`` decimal digits.

    Built by ``sp.MeanField(activation, sigma_w2, sigma_b2, dps=dps)``; the
    attributes and methods mirror :class:`~sigprop.MeanField` and return
    ``mpmath.mpf`` values (lists of them for recursions).

    Parameters
    ----------
    activation_ : str or Activation
        An activation with a sympy expression (callables cannot be evaluated
        at high precision).
    sigma_w2, sigma_b2 : float, int, str or mpf
        Variances; pass decimal strings to give them more than float64 digits.
    dps : int
        Decimal digits, at least 16.

    Raises
    ------
    InvalidParameterError
        ``dps`` below 16, negative variances.
    NoFixedPointError
        As in the float64 class.

    Examples
    --------
    ReLU at ``(2, 0)``: :math:`f(0) = 1/\pi` to 40 digits.

    >>> import mpmath, sigprop as sp
    >>> mf = sp.MeanField("relu", 2, 0, dps=40)
    >>> with mpmath.workdps(45):
    ...     print(abs(mf.c_map(0) - 1 / mpmath.pi) < mpmath.mpf(10) ** -40)
    True
    """

    def __init__(
        self, activation_: Any, sigma_w2: Any, sigma_b2: Any = 0, *, dps: int
    ) -> None:
        from . import symbolic as sy

        self.dps = check_dps(dps)
        act = activation(activation_)
        if act.expr is None:
            act.mpmath_fn()  # raises ExpressionError with the message
        self.activation: Activation = act
        with self._ctx():
            self.sigma_w2 = _to_mpf("sigma_w2", sigma_w2)
            self.sigma_b2 = _to_mpf("sigma_b2", sigma_b2)
        try:
            self._cf: Any = sy.closed_form(act)
            self.engine = "closed"
        except sy.NoClosedFormError:
            self._cf = None
            self.engine = "mehler" if act.is_smooth else "quad"
        self._phi = act.mpmath_fn()
        self._dphi = act.mpmath_derivative()
        self._mehler: dict[str, Any] = {}
        fp = self._q_star_info
        if fp.value is None and fp.reason is not None:
            raise NoFixedPointError(fp.reason)

    def __repr__(self) -> str:
        return (
            f"MeanField({self.activation.name!r}, sigma_w2={self.sigma_w2}, "
            f"sigma_b2={self.sigma_b2}, dps={self.dps})"
        )

    def _ctx(self, extra: int = _GUARD) -> Any:
        return mpmath.workdps(self.dps + extra)

    # -- Gaussian integrals -----------------------------------------------------------

    def _quad1(self, g: Callable[[Any, Any], Any], q: Any) -> Any:
        """:math:`E[g(\\sqrt q z, z)]` by mpmath.quad, kinks split."""
        s = mpmath.sqrt(q)
        pts = {mpmath.mpf(0)} | {mpmath.mpf(k) / s for k in self.activation.kinks}
        return mpmath.quad(
            lambda z: g(s * z, z) * mpmath.npdf(z),
            [-mpmath.inf, *sorted(pts), mpmath.inf],
        )

    def _quad2(self, g: Callable[[Any, Any], Any], q: Any, cc: Any, e: Any) -> Any:
        """:math:`E[g(u_1, u_2)]`, equal variances ``q``, ``c = 1 - e``."""
        s = mpmath.sqrt(q)
        a, d = mpmath.sqrt(1 - e / 2), mpmath.sqrt(e / 2)
        ks = [mpmath.mpf(k) / s for k in self.activation.kinks]
        # u1 = s (a x + d y), u2 = s (a x - d y)

        def inner(x: Any) -> Any:
            pts = {mpmath.mpf(0)}
            if d > 0:
                pts |= {(k - a * x) / d for k in ks} | {(a * x - k) / d for k in ks}
            return mpmath.quad(
                lambda y: g(s * (a * x + d * y), s * (a * x - d * y)) * mpmath.npdf(y),
                [-mpmath.inf, *sorted(pts), mpmath.inf],
            )

        outer = {mpmath.mpf(0)} | {(ki + kj) / (2 * a) for ki in ks for kj in ks}
        return mpmath.quad(
            lambda x: inner(x) * mpmath.npdf(x),
            [-mpmath.inf, *sorted(outer), mpmath.inf],
        )

    def _e_phi2(self, q: Any) -> Any:
        if self._cf is not None:
            return self._cf.kernel_fn("mpmath")(q, q, q)
        phi = self._phi
        return self._quad1(lambda u, z: phi(u) ** 2, q)

    def _e_dphi2(self, q: Any) -> Any:
        if self._cf is not None:
            return self._cf.dkernel_fn("mpmath")(q, q, q)
        dphi = self._dphi
        return self._quad1(lambda u, z: dphi(u) ** 2, q)

    def _de_phi2_dq(self, q: Any) -> Any:
        """:math:`dE[\\phi^2]/dq = E[\\phi(u)\\phi'(u) z]/\\sqrt q`."""
        if q == 0:
            return mpmath.diff(self._e_phi2, mpmath.mpf(0), direction=1)
        phi, dphi = self._phi, self._dphi
        return self._quad1(lambda u, z: phi(u) * dphi(u) * z, q) / mpmath.sqrt(q)

    def _coefficients(self, q: Any) -> list[Any]:
        """Squared Hermite coefficients ``b_k^2`` of ``phi(sqrt(q) z)`` (cached)."""
        key = mpmath.nstr(q, self.dps + _GUARD)
        hit = self._mehler.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        s = mpmath.sqrt(q)
        norm2 = self._e_phi2(q)
        # pdf(t) below 10^-(dps + guard) beyond t; panels no wider than 1/s so
        # that the nodes resolve phi(s z)
        t = mpmath.sqrt(2 * (self.dps + 2 * _GUARD) * mpmath.log(10)) + 1
        h = min(mpmath.mpf(1), 1 / max(s, mpmath.mpf("1e-30")))
        z, w = _gl_panels(t, h, max(24, self.dps))
        vals = [wi * self._phi(s * zi) for zi, wi in zip(z, w, strict=True)]
        h_prev = [mpmath.mpf(0)] * len(z)
        h_cur = [mpmath.mpf(1)] * len(z)
        tol = mpmath.mpf(10) ** (-(self.dps + 2)) * max(norm2, mpmath.mpf("1e-300"))
        b2: list[Any] = []
        total = mpmath.mpf(0)
        for k in range(_KMAX):
            bk = mpmath.fsum(v * hk for v, hk in zip(vals, h_cur, strict=True))
            b2.append(bk**2)
            total += bk**2
            if k > 8 and norm2 - total < tol and sum(b2[-4:]) < tol:
                break
            # normalized Hermite recurrence:
            # h_{k+1} = (z h_k - sqrt(k) h_{k-1}) / sqrt(k+1)
            rk, rk1 = mpmath.sqrt(k), mpmath.sqrt(k + 1)
            h_prev, h_cur = (
                h_cur,
                [
                    (zi * hc - rk * hp) / rk1
                    for zi, hc, hp in zip(z, h_cur, h_prev, strict=True)
                ],
            )
        else:
            raise ConvergenceError(
                f"the Mehler series of {self.activation.name} at q = "
                f"{mpmath.nstr(q, 8)} did not converge to {self.dps} digits in "
                f"{_KMAX} terms."
            )
        self._mehler[key] = b2
        return b2

    def _kernel_pair(self, q: Any, cc: Any) -> Any:
        """:math:`E[\\phi(u_1)\\phi(u_2)]` at variance ``q``, correlation ``cc``."""
        if self._cf is not None:
            return self._cf.kernel_fn("mpmath")(q, q, q * cc)
        if self.engine == "mehler":
            acc = mpmath.mpf(0)
            for b in reversed(self._coefficients(q)):
                acc = acc * cc + b
            return acc
        phi = self._phi
        return self._quad2(lambda u1, u2: phi(u1) * phi(u2), q, cc, 1 - cc)

    def _dd_pair(self, q: Any, cc: Any) -> Any:
        """:math:`E[\\phi'(u_1)\\phi'(u_2)]`."""
        if self._cf is not None:
            return self._cf.dkernel_fn("mpmath")(q, q, q * cc)
        if self.engine == "mehler":
            b2 = self._coefficients(q)
            acc = mpmath.mpf(0)
            for k in range(len(b2) - 1, 0, -1):
                acc = acc * cc + k * b2[k]
            return acc / q
        dphi = self._dphi
        return self._quad2(lambda u1, u2: dphi(u1) * dphi(u2), q, cc, 1 - cc)

    def _half_diffsq(self, q: Any, e: Any) -> Any:
        """:math:`E[(\\phi(u_1) - \\phi(u_2))^2]/2` at ``c = 1 - e``.

        Without cancellation: guard digits for the closed form and the Mehler
        sum, the squared difference itself under the quadrature.
        """
        if e == 0:
            return mpmath.mpf(0)
        if self.engine == "quad":
            phi = self._phi
            return self._quad2(lambda u1, u2: (phi(u1) - phi(u2)) ** 2 / 2, q, 1 - e, e)
        lost = max(0, int(-mpmath.floor(mpmath.log10(abs(e))))) if e < 1 else 0
        with mpmath.workdps(self.dps + _GUARD + lost):
            if self._cf is not None:
                k = self._cf.kernel_fn("mpmath")
                return k(q, q, q) - k(q, q, q * (1 - e))
            b2 = self._coefficients(q)
            # sum_k b_k^2 (1 - c^k) by Horner on the powers of c = 1 - e
            cc = 1 - e
            acc = mpmath.mpf(0)
            for b in reversed(b2):
                acc = acc * cc + b
            return sum(b2) - acc

    # -- maps and fixed points ---------------------------------------------------

    def q_map(self, qv: Any) -> Any:
        """Length map ``V(q)`` at ``dps`` digits."""
        with self._ctx():
            qv = _to_mpf("q", qv)
            return self.sigma_w2 * self._e_phi2(qv) + self.sigma_b2

    @cached_property
    def _q_star_info(self) -> _QStar:
        sw, sb = self.sigma_w2, self.sigma_b2
        act = self.activation
        tol = mpmath.mpf(10) ** (-(self.dps - 2))
        with self._ctx():
            if act.closed_form == "piecewise_linear" and act.slopes is not None:
                m2 = sum(mpmath.mpf(sympy.nsimplify(s)) ** 2 for s in act.slopes) / 2
                if abs(sw * m2 - 1) <= tol and sb == 0:
                    return _QStar(None)
                if sw * m2 < 1:
                    return _QStar(sb / (1 - sw * m2))
                return _QStar(
                    None,
                    f"no finite fixed point q* for {act.name} with sigma_w2="
                    f"{mpmath.nstr(sw, 12)}, sigma_b2={mpmath.nstr(sb, 12)}: its "
                    "length map grows without bound. Use sigma_w2 < "
                    f"{mpmath.nstr(1 / m2, 12)} or sigma_b2 = 0 at its edge.",
                )
            return _QStar(self._solve_q_star())

    def _solve_q_star(self) -> Any:
        """Polish the float64 ``q*`` with mpmath's secant solver."""
        from .meanfield import MeanField

        seed = MeanField(self.activation, float(self.sigma_w2), float(self.sigma_b2))
        q0 = seed._q_star_info.value
        if q0 is None or q0 < 1e-10 and self.sigma_b2 == 0:
            return mpmath.mpf(0)
        sw, sb = self.sigma_w2, self.sigma_b2

        def g(qv: Any) -> Any:
            return sw * self._e_phi2(qv) + sb - qv

        try:
            root = mpmath.findroot(
                g,
                (mpmath.mpf(q0), mpmath.mpf(q0) * (1 + mpmath.mpf("1e-8"))),
                solver="secant",
                tol=mpmath.mpf(10) ** (-2 * (self.dps + 4)),
            )
        except (ValueError, ZeroDivisionError) as exc:
            raise ConvergenceError(
                f"q* of {self!r} did not converge at {self.dps} digits: {exc}"
            ) from exc
        return root

    @property
    def q_star(self) -> Any:
        """Stable fixed point of the length map (mpf)."""
        fp = self._q_star_info
        if fp.value is None:
            raise IndeterminateFixedPointError(
                f"every q is a fixed point of the length map of "
                f"{self.activation.name} at sigma_w2={mpmath.nstr(self.sigma_w2, 12)}"
                ", sigma_b2=0: V(q) = q."
            )
        return fp.value

    @property
    def _q(self) -> Any:
        v = self._q_star_info.value
        return mpmath.mpf(1) if v is None else v

    def c_map(self, cc: Any) -> Any:
        """Correlation map ``f(c)`` at ``q*``."""
        with self._ctx():
            cc = mpmath.mpf(cc)
            return 1 - self.one_minus_c_map(1 - cc)

    def one_minus_c_map(self, e: Any) -> Any:
        """``1 - f(1 - eps)``, good to ``dps`` digits relative for any ``eps``."""
        with self._ctx():
            e = mpmath.mpf(e)
            if not 0 <= e <= 2:
                raise InvalidParameterError(
                    f"`eps` = 1 - c must be in [0, 2]; got {mpmath.nstr(e, 10)}."
                )
            q = self._q
            if q == 0:
                return mpmath.mpf(0)
            return self.sigma_w2 * self._half_diffsq(q, e) / q

    def c_map_slope(self, cc: Any) -> Any:
        """``f'(c) = sigma_w2 E[phi'(u_1) phi'(u_2)]`` at ``q*``."""
        with self._ctx():
            return self.sigma_w2 * self._dd_pair(self._q, mpmath.mpf(cc))

    @cached_property
    def chi_1(self) -> Any:
        """:math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]`."""
        with self._ctx():
            return self.sigma_w2 * self._e_dphi2(self._q)

    @cached_property
    def chi_q(self) -> Any:
        """:math:`\\chi_q = V'(q^*)`."""
        with self._ctx():
            return self.sigma_w2 * self._de_phi2_dq(self._q)

    @cached_property
    def phase(self) -> str:
        """``"edge"`` (within the float64 path's 1e-9), ``"ordered"``, ``"chaotic"``."""
        if abs(self.chi_1 - 1) <= _EDGE_RTOL:
            return "edge"
        return "ordered" if self.chi_1 < 1 else "chaotic"

    @cached_property
    def c_star(self) -> Any:
        """Stable correlation fixed point (1 unless chaotic)."""
        if self.phase != "chaotic":
            return mpmath.mpf(1)
        from .meanfield import MeanField

        seed = MeanField(
            self.activation, float(self.sigma_w2), float(self.sigma_b2)
        ).c_star
        with self._ctx():
            c0 = mpmath.mpf(seed)
            try:
                return mpmath.findroot(
                    lambda cc: self.c_map(cc) - cc,
                    (c0, c0 * (1 - mpmath.mpf("1e-8"))),
                    solver="secant",
                    tol=mpmath.mpf(10) ** (-2 * (self.dps + 4)),
                )
            except (ValueError, ZeroDivisionError) as exc:
                raise ConvergenceError(
                    f"c* of {self!r} did not converge at {self.dps} digits: {exc}"
                ) from exc

    @cached_property
    def chi_c(self) -> Any:
        """:math:`\\chi_c = f'(c^*)`."""
        return self.chi_1 if self.c_star == 1 else self.c_map_slope(self.c_star)

    @property
    def xi_q(self) -> Any:
        """:math:`-1/\\ln\\chi_q`."""
        return _depth_scale(self.chi_q)

    @property
    def xi_c(self) -> Any:
        """:math:`-1/\\ln\\chi_c` (inf on the edge)."""
        return mpmath.inf if self.phase == "edge" else _depth_scale(self.chi_c)

    # -- recursions --------------------------------------------------------------

    def forward_eps(self, depth: int, c0: Any = 0) -> list[Any]:
        """:math:`\\epsilon^l = 1 - c^l`, ``l = 0..L``, each good to ``dps`` digits."""
        depth = check_depth(depth)
        if depth > 10_000 and self.engine == "quad":
            logger.warning(
                "a %d-layer recursion of %s with two-dimensional mpmath quadrature "
                "will take hours",
                depth,
                self.activation.name,
            )
        with self._ctx():
            c0 = mpmath.mpf(c0)
            if not -1 <= c0 <= 1:
                raise InvalidParameterError(
                    f"`c0` must be a correlation in [-1, 1]; got {mpmath.nstr(c0, 10)}."
                )
            e = 1 - c0
            out = [e]
            for _ in range(depth):
                e = self.one_minus_c_map(e)
                out.append(e)
        return out

    def forward(self, depth: int, c0: Any = 0) -> list[Any]:
        """Correlations :math:`c^0, \\dots, c^L`."""
        with self._ctx():
            return [1 - e for e in self.forward_eps(depth, c0)]

    def _backward_from(self, cs: Sequence[Any]) -> list[Any]:
        with self._ctx():
            ratios = [self.c_map_slope(cc) / self.chi_1 for cc in cs[1:]]
            out = [mpmath.mpf(1)]
            for r in reversed(ratios):
                out.append(out[-1] * r)
            out.reverse()
        return out

    def backward(self, depth: int, c0: Any = 0) -> list[Any]:
        """:math:`\\tilde c^l = \\prod_{k=l}^L f'(c^k)/\\chi_1`, ``l = 1..L+1``."""
        return self._backward_from(self.forward(depth, c0))

    def equilibrium(self, depth: int, c0: Any = 0) -> MPEquilibrium:
        """The equilibrium layer at ``dps`` digits (THEORY.md, section 5)."""
        depth = check_depth(depth)
        c_star = self.c_star
        with self._ctx():
            c0m = mpmath.mpf(c0)
            if abs(c0m - c_star) < mpmath.mpf("1e-10"):
                raise EquilibriumError(
                    f"`c0` = {c0!r} is within 1e-10 of c* = {mpmath.nstr(c_star, 12)}:"
                    " F(l) = |c^l - c*| defines no equilibrium."
                )
            eps = self.forward_eps(depth, c0m)
            cs = [1 - e for e in eps]
            fwd = (
                [abs(e) for e in eps] if c_star == 1 else [abs(x - c_star) for x in cs]
            )
            bwd = self._backward_from(cs)
            d = [fwd[i + 1] - bwd[i] for i in range(depth)]  # l = 1..L
            crossings: list[tuple[Any, str]] = []
            for i in range(depth - 1):
                a, b = d[i], d[i + 1]
                if a > 0 >= b:
                    crossings.append((i + 1 + a / (a - b), "down"))
                elif a <= 0 < b:
                    crossings.append((i + 1 - a / (b - a), "up"))
            boundary: str | None
            if d[0] <= 0:
                layer, boundary = mpmath.mpf(1), "below"
            else:
                downs = [x for x, kind in crossings if kind == "down"]
                layer, boundary = (
                    (downs[0], None) if downs else (mpmath.mpf(depth), "above")
                )
        return MPEquilibrium(
            layer=layer,
            boundary=boundary,
            crossings=tuple(crossings),
            forward=fwd,
            backward=bwd,
            depth=depth,
            dps=self.dps,
        )


def _depth_scale(chi: Any) -> Any:
    if chi <= 0:
        return mpmath.mpf(0)
    if chi == 1:
        return mpmath.inf
    return -1 / mpmath.log(chi)


def edge_of_chaos_mp(act: Any, sigma_b2: Any = 0, *, dps: int) -> Any:
    r"""``sigma_w2`` with :math:`\chi_1 = 1` at ``dps`` digits (mpf).

    The float64 root of :func:`sigprop.edge_of_chaos` seeds mpmath's secant
    solver on :math:`\chi_1(\sigma_w^2) - 1`, each evaluation solving for
    ``q*`` at the same precision.

    Examples
    --------
    >>> import sigprop as sp
    >>> sp.edge_of_chaos("relu", dps=30)
    mpf('2.0')
    """
    from .edge import edge_of_chaos

    dps = check_dps(dps)
    a = activation(act)
    with mpmath.workdps(dps + _GUARD):
        sb = _to_mpf("sigma_b2", sigma_b2)
        if a.closed_form == "piecewise_linear" and a.slopes is not None:
            m2 = sum(mpmath.mpf(sympy.nsimplify(s)) ** 2 for s in a.slopes) / 2
            if sb > 0:
                edge_of_chaos(a, float(sb))  # raises NoEdgeOfChaosError
            return 1 / m2
        seed = edge_of_chaos(a, float(sb))

        def chi(sw: Any) -> Any:
            return MPMeanField(a, sw, sb, dps=dps).chi_1 - 1

        try:
            root = mpmath.findroot(
                chi,
                (mpmath.mpf(seed), mpmath.mpf(seed) * (1 + mpmath.mpf("1e-9"))),
                solver="secant",
                tol=mpmath.mpf(10) ** (-2 * (dps + 4)),
            )
        except (ValueError, ZeroDivisionError) as exc:
            raise NoEdgeOfChaosError(
                f"the edge of chaos of {a.name} at sigma_b2 = {sigma_b2} did not "
                f"converge at {dps} digits: {exc}"
            ) from exc
    return root
