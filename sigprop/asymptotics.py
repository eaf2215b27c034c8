r"""Asymptotic laws of the equilibrium layer (THEORY.md, section 6).

At the edge of chaos the correlation map behaves near ``c = 1`` as

.. math::  1 - f(1 - \epsilon) = \epsilon - a\,\epsilon^p + o(\epsilon^p),
   \qquad p > 1,\ a > 0,

and the exact recursion then follows, for large depth,

.. math::
   1 - c^l \sim (a (p-1) l)^{-1/(p-1)}, \qquad
   f'(c^l) \sim 1 - \frac{p}{(p-1)\,l}, \qquad
   \tilde c^l \sim (l/L)^{p/(p-1)}, \qquad
   l^* \sim (a(p-1))^{-1/(p+1)} L^{p/(p+1)}.

:func:`asymptotics` finds ``(a, p)`` for an activation and initialization,
exactly (sympy) where the correlation map has a closed form and numerically
otherwise, and off the edge of chaos reports the regime instead of a power
law: in the ordered phase ``l*`` tends to a constant, a multiple of ``xi_c``;
in the chaotic phase it is a fixed fraction of ``L``.

Symbols are THEORY.md's: ``sigma_w2``, ``sigma_b2``, ``q_star``, ``chi_1``,
``chi_c = f'(c*)``, ``xi_c = -1/ln chi_c``; ``L`` is the number of hidden
layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy

from ._errors import EquilibriumError, InvalidParameterError
from ._validate import check_real
from .activations import Activation, activation, x_sym

__all__ = ["Asymptotics", "asymptotics", "chaotic_fraction"]

Number = Any  # a sympy number where exact, a float (or mpf) otherwise

# q* below this is zero: a smooth odd activation at sigma_b2 = 0 sits on its
# edge with q* = 0, which the float64 solver returns as a tiny positive number
# (V(q) - q ~ -q^2 there, so the iteration creeps like 1/l)
_Q_ZERO = 1e-10


@dataclass(frozen=True)
class Asymptotics:
    r"""The large-depth law of one activation and initialization.

    Attributes
    ----------
    activation : str
        Name of the activation.
    sigma_w2, sigma_b2 : float
        The initialization.
    regime : str
        ``"edge"``, ``"ordered"`` or ``"chaotic"``.
    p, a : sympy number, float or None
        Exponent and coefficient of :math:`1 - f(1-\epsilon) = \epsilon - a
        \epsilon^p`; sympy numbers where exact, floats otherwise; ``None`` off
        the edge of chaos or for a degenerate map.
    exponent, prefactor : sympy number, float or None
        :math:`l^* \sim` ``prefactor * L**exponent`` with ``exponent =
        p/(p+1)`` and ``prefactor = (a (p-1))^(-1/(p+1))``.
    exact : bool
        True when ``a`` and ``prefactor`` are exact sympy numbers.
    method : str
        How ``(a, p)`` were obtained.
    xi_c : float
        Depth scale of correlations (``inf`` on the edge).
    chi_1, chi_c, c_star : float
        Slopes and correlation fixed point.
    fraction : float or None
        Chaotic phase: ``l* / L`` as ``L -> inf``.
    limit : float or None
        Ordered phase: ``l*`` as ``L -> inf`` (from the exact recursion).
    bound_multiple : float or None
        Ordered phase: ``limit / xi_c``.
    note : str or None
        Why no law is given (a degenerate map), or a caveat.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    regime: str
    p: Number = None
    a: Number = None
    exponent: Number = None
    prefactor: Number = None
    exact: bool = False
    method: str = ""
    xi_c: float = math.inf
    chi_1: float = 1.0
    chi_c: float = 1.0
    c_star: float = 1.0
    fraction: float | None = None
    limit: float | None = None
    bound_multiple: float | None = None
    note: str | None = None
    _c0: float = field(default=0.0, repr=False)

    # -- the laws ------------------------------------------------------------------

    @property
    def has_power_law(self) -> bool:
        """True on the edge of chaos with a non-degenerate ``(a, p)``."""
        return self.regime == "edge" and self.a is not None

    def _need_law(self, what: str) -> None:
        if not self.has_power_law:
            why = self.note or f"the network is in the {self.regime} phase"
            raise EquilibriumError(
                f"no edge-of-chaos power law for {what} of {self.activation} at "
                f"sigma_w2={self.sigma_w2:g}, sigma_b2={self.sigma_b2:g}: {why}."
            )

    def __call__(self, L: Any) -> Any:
        """Predicted equilibrium layer ``l*`` at depth ``L`` (float or array).

        On the edge: ``prefactor * L**exponent``; ordered: the constant
        ``limit``; chaotic: ``fraction * L``.
        """
        arr = np.asarray(L, dtype=float)
        if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
            raise InvalidParameterError(
                f"`L` must be positive depths (numbers of hidden layers); got {L!r}."
            )
        if self.regime == "chaotic" and self.fraction is not None:
            out = self.fraction * arr
        elif self.regime == "ordered" and self.limit is not None:
            out = np.minimum(np.full_like(arr, self.limit), arr)
        else:
            self._need_law("l*")
            out = float(self.prefactor) * arr ** float(self.exponent)
        return float(out) if np.ndim(L) == 0 else out

    def eps(self, layer: Any) -> Any:
        """:math:`1 - c^l \\sim (a (p-1) l)^{-1/(p-1)}` on the edge."""
        self._need_law("1 - c^l")
        a, p = float(self.a), float(self.p)
        return (a * (p - 1) * np.asarray(layer, dtype=float)) ** (-1 / (p - 1))

    def slope(self, layer: Any) -> Any:
        """:math:`f'(c^l) \\sim 1 - p / ((p-1) l)` on the edge."""
        self._need_law("f'(c^l)")
        p = float(self.p)
        return 1 - p / ((p - 1) * np.asarray(layer, dtype=float))

    def ct(self, layer: Any, L: Any) -> Any:
        """:math:`\\tilde c^l \\sim (l/L)^{p/(p-1)}` on the edge."""
        self._need_law("ct^l")
        p = float(self.p)
        ratio = np.asarray(layer, dtype=float) / np.asarray(L, dtype=float)
        return ratio ** (p / (p - 1))

    # -- display -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; exact numbers also as strings."""

        def num(v: Any) -> Any:
            return None if v is None else float(v)

        def text(v: Any) -> Any:
            return None if v is None else str(v)

        return {
            "activation": self.activation,
            "sigma_w2": self.sigma_w2,
            "sigma_b2": self.sigma_b2,
            "regime": self.regime,
            "p": num(self.p),
            "a": num(self.a),
            "exponent": num(self.exponent),
            "prefactor": num(self.prefactor),
            "exact": self.exact,
            "p_exact": text(self.p) if self.p is not None else None,
            "a_exact": text(self.a) if self.exact else None,
            "exponent_exact": text(self.exponent)
            if self.exponent is not None
            else None,
            "prefactor_exact": text(self.prefactor) if self.exact else None,
            "method": self.method,
            "xi_c": self.xi_c,
            "chi_1": self.chi_1,
            "chi_c": self.chi_c,
            "c_star": self.c_star,
            "fraction": self.fraction,
            "limit": self.limit,
            "bound_multiple": self.bound_multiple,
            "note": self.note,
        }

    def lines(self) -> list[str]:
        """Human-readable description, one line per fact."""
        head = (
            f"{self.activation} at sigma_w2={self.sigma_w2:.12g}, "
            f"sigma_b2={self.sigma_b2:.12g}: {self.regime}"
        )
        out = [head]
        if self.regime == "edge":
            if self.has_power_law:
                kind = "exact" if self.exact else "numeric"
                out.append(
                    f"  1 - f(1 - eps) = eps - a eps^p + ...,  p = {self.p}, "
                    f"a = {_show(self.a)}  ({kind}: {self.method})"
                )
                out.append(
                    f"  l* ~ {_show(self.prefactor)} L^({self.exponent})"
                    f"  ~ {float(self.prefactor):.6g} L^{float(self.exponent):.6g}"
                )
                p = self.p
                out.append(
                    f"  1 - c^l ~ (a (p-1) l)^(-{sympy.nsimplify(1 / (p - 1))}),  "
                    f"ct^l ~ (l/L)^({sympy.nsimplify(p / (p - 1))})"
                )
        elif self.regime == "ordered":
            out.append(
                f"  l* is bounded as L grows: l* -> {self.limit:.6g} = "
                f"{self.bound_multiple:.4g} xi_c  (xi_c = {self.xi_c:.6g})"
                if self.limit is not None
                else f"  l* is bounded by a multiple of xi_c = {self.xi_c:.6g}"
            )
        elif self.fraction is not None:
            out.append(
                f"  l* ~ {self.fraction:.6g} L  (chi_1 = {self.chi_1:.6g}, "
                f"chi_c = {self.chi_c:.6g}, c* = {self.c_star:.6g})"
            )
        if self.note:
            out.append(f"  note: {self.note}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        if self.has_power_law:
            return (
                f"Asymptotics({self.activation!r}, regime='edge', p={self.p}, "
                f"a={_show(self.a)}, l* ~ {_show(self.prefactor)} "
                f"L^({self.exponent}))"
            )
        if self.regime == "chaotic":
            return (
                f"Asymptotics({self.activation!r}, regime='chaotic', "
                f"fraction={self.fraction!r})"
            )
        if self.regime == "ordered":
            return (
                f"Asymptotics({self.activation!r}, regime='ordered', "
                f"xi_c={self.xi_c!r}, limit={self.limit!r})"
            )
        return f"Asymptotics({self.activation!r}, regime={self.regime!r}, a=None)"


def _show(v: Any) -> str:
    if isinstance(v, sympy.Basic):
        return f"{v} = {float(v):.10g}"
    return f"{float(v):.10g}"


# -- (a, p) on the edge ---------------------------------------------------------------


def _exact_piecewise_linear(act: Activation) -> tuple[Any, Any, str] | None:
    """``(a, p)`` from the Puiseux series of the arc-cosine map at ``(2/m, 0)``."""
    from . import symbolic as sy

    assert act.slopes is not None
    neg, pos = (sympy.nsimplify(s) for s in act.slopes)
    if neg == pos:
        return None
    sw = 2 / (neg**2 + pos**2)
    f = sy.c_map(act).subs({sy.sigma_w2: sw, sy.sigma_b2: 0})
    t = sympy.Symbol("t", positive=True)  # eps = t^2 turns eps^(3/2) into t^3
    one_minus = sympy.series(1 - f.subs(sy.c, 1 - t**2), t, 0, 6).removeO()
    poly = sympy.Poly(sympy.expand(one_minus), t)
    coeffs = dict(poly.terms())
    assert sympy.simplify(coeffs.get((2,), 0) - 1) == 0  # f'(1) = 1 on the EOC
    for k in range(3, 6):
        ck = sympy.simplify(coeffs.get((k,), 0))
        if ck != 0:
            return sympy.simplify(-ck), sympy.Rational(k, 2), "Puiseux series of f"
    return None  # pragma: no cover - the kinked map always has a t^3 term


def _smooth_closed(mf: Any, qs: Any) -> tuple[Any, Any, str]:
    """``a = f''(1)/2`` from the exact map at the numeric ``q*``."""
    from . import symbolic as sy

    cf = sy.closed_form(mf.activation)
    second = sympy.diff(cf.c_map, sy.c, 2)
    fn = sympy.lambdify((sy.c, sy.q, sy.sigma_w2, sy.sigma_b2), second, "mpmath")
    with mpmath.workdps(_dps(mf) + 10):
        val = fn(mpmath.mpf(1), qs, _mpf(mf.sigma_w2), _mpf(mf.sigma_b2)) / 2
    return _num(mf, val), sympy.Integer(2), "f''(1)/2 from the closed-form map"


def _derivatives(act: Activation) -> tuple[Any, Any]:
    """phi' and phi'' as mpmath functions (finite differences for a callable)."""
    if act.expr is not None:
        d1 = sympy.diff(act.expr, x_sym)
        d2 = sympy.diff(d1, x_sym)
        # DiracDelta from a jump in phi' is handled separately (the eps^(3/2)
        # term); inside an integral over a smooth piece it is zero.
        d1 = d1.replace(sympy.DiracDelta, lambda *a: sympy.Integer(0))
        d2 = d2.replace(sympy.DiracDelta, lambda *a: sympy.Integer(0))
        return (
            sympy.lambdify(x_sym, d1, "mpmath"),
            sympy.lambdify(x_sym, d2, "mpmath"),
        )

    def d1f(x: Any) -> Any:
        return mpmath.mpf(float(act.derivative(np.array([float(x)]))[0]))

    def d2f(x: Any) -> Any:
        h = 1e-4 * max(1.0, abs(float(x)))
        xs = np.array([float(x) - h, float(x) + h])
        d = act.derivative(xs)
        return mpmath.mpf(float((d[1] - d[0]) / (2 * h)))

    return d1f, d2f


def _numeric(mf: Any, qs: Any) -> tuple[Any, Any, str] | str:
    r"""``(a, p)`` by quadrature; a string when the map is not covered.

    Notes
    -----
    Smooth ``phi'``: :math:`f''(1) = \sigma_w^2 q^* E[\phi''(u)^2]` (Price),
    so :math:`a = \sigma_w^2 q^* E[\phi''^2]/2` and :math:`p = 2`.

    ``phi'`` jumping by :math:`J_k` at kinks :math:`k`: the two inputs of the
    pair straddle a kink with probability :math:`\approx p_{q}(k)
    E|u_1 - u_2| = p_q(k)\, 2\sqrt{q\epsilon/\pi}` (:math:`p_q` the
    :math:`N(0, q)` density), so :math:`1 - f'(1-\epsilon) \approx \sigma_w^2
    \sqrt{q/\pi}\,\epsilon^{1/2}\sum_k J_k^2 p_q(k)`; integrating in
    :math:`\epsilon` gives :math:`p = 3/2` and :math:`a = \frac23 \sigma_w^2
    \sqrt{q/\pi}\sum_k J_k^2 p_q(k)`. For ReLU at ``(2, 0)`` this is
    :math:`2\sqrt2/(3\pi)`, the exact value.
    """
    act = mf.activation
    d1, d2 = _derivatives(act)
    dps = _dps(mf) + 5
    with mpmath.workdps(dps):
        sw = _mpf(mf.sigma_w2)
        delta = mpmath.mpf(10) ** (-(dps // 2))
        jumps = []
        for k in act.kinks:
            km = mpmath.mpf(k)
            if act.expr is not None:
                fn = act.mpmath_fn()
                jump0 = fn(km + delta) - fn(km - delta)
            else:
                jump0 = mpmath.mpf(
                    float(np.diff(act(np.array([k - 1e-9, k + 1e-9])))[0])
                )
            if abs(jump0) > mpmath.mpf(10) ** (-(dps // 4)):
                return (
                    f"phi jumps at x = {k:g}: 1 - f(1 - eps) ~ eps^(1/2), outside "
                    "the eps - a eps^p form"
                )
            jumps.append((km, d1(km + delta) - d1(km - delta)))
        big = [(k, j) for k, j in jumps if abs(j) > mpmath.mpf(10) ** (-(dps // 4))]
        if big:
            dens = sum(j**2 * mpmath.npdf(k, 0, mpmath.sqrt(qs)) for k, j in big)
            a = mpmath.mpf(2) / 3 * sw * mpmath.sqrt(qs / mpmath.pi) * dens
            return _num(mf, a), sympy.Rational(3, 2), "kink formula (phi' jumps)"
        s = mpmath.sqrt(qs)
        pts = sorted({mpmath.mpf(k) / s for k in act.kinks} | {mpmath.mpf(0)})
        e2 = mpmath.quad(
            lambda z: d2(s * z) ** 2 * mpmath.npdf(z), [-mpmath.inf, *pts, mpmath.inf]
        )
        a = sw * qs * e2 / 2
    return _num(mf, a), sympy.Integer(2), "sigma_w2 q* E[phi''^2]/2 by quadrature"


def _dps(mf: Any) -> int:
    dps = getattr(mf, "dps", None)
    return int(dps) if dps is not None else 20


def _mpf(v: Any) -> Any:
    return v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)


def _num(mf: Any, v: Any) -> Any:
    """A float, or the mpf itself on a high-precision model."""
    return v if getattr(mf, "dps", None) is not None else float(v)


# -- off the edge ---------------------------------------------------------------------


def chaotic_fraction(chi_1: float, chi_c: float) -> float:
    r"""``l*/L`` as ``L -> inf`` in the chaotic phase.

    Notes
    -----
    Away from the first and last few layers :math:`F(l) = |c^l - c^*| \approx
    A \chi_c^l` and :math:`B(l) = \tilde c^l \approx (\chi_c/\chi_1)^{L+1-l}`.
    Equating the logarithms, :math:`l \ln\chi_c = (L - l)\ln(\chi_c/\chi_1) +
    O(1)`, gives

    .. math:: l^*/L \to \frac{\ln(\chi_1/\chi_c)}{\ln(\chi_1/\chi_c^2)}.

    Examples
    --------
    >>> from sigprop.asymptotics import chaotic_fraction
    >>> round(chaotic_fraction(2.0, 0.5), 12)  # ln 4 / ln 8
    0.666666666667
    """
    chi_1 = check_real("chi_1", chi_1)
    chi_c = check_real("chi_c", chi_c)
    if not (0 < chi_c < 1 < chi_1):
        raise InvalidParameterError(
            "the chaotic fraction needs 0 < `chi_c` < 1 < `chi_1`; got "
            f"chi_c={chi_c!r}, chi_1={chi_1!r}."
        )
    r = math.log(chi_1 / chi_c)
    return r / (r - math.log(chi_c))


def _ordered_limit(mf: Any, xi_c: float, c0: float) -> tuple[float, str | None]:
    """``l*`` at a depth where it no longer moves with ``L`` (ordered phase)."""
    depth = int(min(max(200, math.ceil(60 * xi_c)), 200_000))
    eq = mf.equilibrium(depth, c0)
    eq2 = mf.equilibrium(2 * depth, c0)
    note = None
    if abs(eq2.layer - eq.layer) > 1e-6 * max(1.0, eq2.layer):
        note = (
            f"l* still moved between L = {depth} and {2 * depth} "
            f"({eq.layer:.6g} -> {eq2.layer:.6g})"
        )
    if eq2.boundary == "below":
        note = "F(1) <= B(1): the balance lies at or below the first layer"
    return float(eq2.layer), note


# -- the entry point -------------------------------------------------------------------


def asymptotics(
    model: Any,
    sigma_b2: float = 0.0,
    *,
    sigma_w2: float | None = None,
    c0: float = 0.0,
    **params: Any,
) -> Asymptotics:
    r"""The large-depth law of the equilibrium layer.

    Parameters
    ----------
    model : str, Activation or MeanField
        An activation (then the network is put on its edge of chaos at
        ``sigma_b2``, unless ``sigma_w2`` is given) or a ready
        :class:`~sigprop.MeanField` (float64 or ``dps=``).
    sigma_b2 : float, default 0.0
        Bias variance (ignored for a MeanField).
    sigma_w2 : float, optional
        Weight variance; default: the edge of chaos for ``sigma_b2``.
    c0 : float, default 0.0
        Input correlation used for the ordered-phase limit.
    **params
        Activation parameters (``alpha=0.1``).

    Returns
    -------
    Asymptotics
        ``law.regime``, ``law.p``, ``law.a``, ``law.exponent``,
        ``law.prefactor`` and ``law(L)``. Off the edge the regime is reported
        (never an exception): ordered with ``law.limit`` and
        ``law.bound_multiple`` (``l*`` is bounded by that multiple of
        ``xi_c``), chaotic with ``law.fraction``.

    Notes
    -----
    How ``(a, p)`` are found on the edge:

    * kinked piecewise-linear maps (ReLU, leaky ReLU): exactly, by the
      Puiseux series of the arc-cosine map in :math:`t = \sqrt\epsilon`;
    * other closed forms (erf, sin, cos, polynomials): :math:`p = 2`,
      :math:`a = f''(1)/2` by exact differentiation, evaluated at the
      numeric ``q*``;
    * everything else by quadrature (see :func:`_numeric`): :math:`p = 3/2`
      where :math:`\phi'` jumps (SELU, hardtanh, ELU with
      :math:`\alpha \ne 1`), :math:`p = 2` with
      :math:`a = \sigma_w^2 q^* E[\phi''^2]/2` where it does not.

    A map that is the identity to leading order (the linear activation, or a
    smooth odd activation at ``sigma_b2 = 0`` whose edge sits at ``q* = 0``)
    has ``a = 0`` and no power law; ``law.note`` says so.

    Examples
    --------
    ReLU: :math:`p = 3/2`, :math:`a = 2\sqrt2/(3\pi)`, so
    :math:`l^* \sim (3\pi/\sqrt2)^{2/5} L^{3/5}`:

    >>> import sympy, sigprop as sp
    >>> law = sp.asymptotics("relu")
    >>> law.regime, law.p, law.exponent
    ('edge', 3/2, 3/5)
    >>> exact = (3 * sympy.pi / sympy.sqrt(2)) ** sympy.Rational(2, 5)
    >>> sympy.simplify(law.prefactor - exact)
    0
    """
    from .edge import edge_of_chaos
    from .meanfield import MeanField

    if hasattr(model, "chi_1") and hasattr(model, "activation"):
        mf = model
    else:
        act = activation(model, **params)
        sw = sigma_w2 if sigma_w2 is not None else edge_of_chaos(act, sigma_b2)
        mf = MeanField(act, sw, sigma_b2)
    act = mf.activation
    base = {
        "activation": act.name,
        "sigma_w2": float(mf.sigma_w2),
        "sigma_b2": float(mf.sigma_b2),
        "chi_1": float(mf.chi_1),
        "_c0": c0,
    }
    fp = mf._q_star_info
    qs = fp.value  # None: every q is a fixed point (ReLU at (2, 0))
    regime = mf.phase
    if qs is not None and qs <= _Q_ZERO:
        return Asymptotics(
            regime=regime,
            note=(
                f"q* = {float(qs):.3g} (zero): the inputs collapse to zero variance "
                "and the correlation "
                "map is the identity to leading order (a = 0); use sigma_b2 > 0"
            ),
            **base,
        )
    if regime == "ordered":
        xi_c = float(mf.xi_c)
        limit, note = _ordered_limit(mf, xi_c, c0)
        return Asymptotics(
            regime="ordered",
            xi_c=xi_c,
            chi_c=float(mf.chi_c),
            limit=limit,
            bound_multiple=limit / xi_c,
            note=note,
            **base,
        )
    if regime == "chaotic":
        chi_c, c_star = float(mf.chi_c), float(mf.c_star)
        frac = None
        note = None
        if 0 < chi_c < 1:
            frac = chaotic_fraction(float(mf.chi_1), chi_c)
        else:
            note = f"chi_c = {chi_c:g} is outside (0, 1): no fixed fraction"
        return Asymptotics(
            regime="chaotic",
            xi_c=float(mf.xi_c),
            chi_c=chi_c,
            c_star=c_star,
            fraction=frac,
            note=note,
            **base,
        )
    return _edge(mf, qs, base)


def _edge(mf: Any, qs: Any, base: dict[str, Any]) -> Asymptotics:
    from . import symbolic as sy

    act = mf.activation
    exact = False
    q_eff = _mpf(qs if qs is not None else 1)
    got: tuple[Any, Any, str] | str | None
    if act.closed_form == "piecewise_linear" and act.slopes is not None:
        got = _exact_piecewise_linear(act)
        exact = got is not None
        if got is None:
            got = "f(c) = c: the linear map loses no correlation (a = 0)"
    elif sy.has_closed_form(act):
        got = _smooth_closed(mf, q_eff)
    else:
        got = _numeric(mf, q_eff)
    if isinstance(got, str):
        return Asymptotics(regime="edge", note=got, **base)
    a, p, method = got
    if not a > 0:
        return Asymptotics(
            regime="edge",
            note=f"a = {a} is not positive: no eps - a eps^p law",
            method=method,
            **base,
        )
    exponent = p / (p + 1)
    if exact:
        # kept as base^(1/(p+1)) so that it prints like THEORY.md's formula
        prefactor = sympy.Pow(
            sympy.simplify(1 / (a * (p - 1))), 1 / (p + 1), evaluate=False
        )
    else:
        pm1, pp1 = float(p) - 1, float(p) + 1
        if isinstance(a, mpmath.mpf):
            prefactor = (a * pm1) ** (-1 / mpmath.mpf(pp1))
        else:
            prefactor = (a * pm1) ** (-1 / pp1)
    return Asymptotics(
        regime="edge",
        p=p,
        a=a,
        exponent=exponent,
        prefactor=prefactor,
        exact=exact,
        method=method,
        **base,
    )
