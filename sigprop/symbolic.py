r"""Closed-form Gaussian kernels, length maps and correlation maps (sympy).

For the activations whose Gaussian integrals are known in closed form this
module gives the kernel

.. math::  K(q_{11}, q_{22}, q_{12}) = E[\phi(u_1)\phi(u_2)],
   \qquad (u_1, u_2) \sim N(0, [[q_{11}, q_{12}], [q_{12}, q_{22}]]),

and from it, in THEORY.md's notation (section 2), the length map
``V(q) = sigma_w2 K(q, q, q) + sigma_b2``, the correlation map
``f(c) = (sigma_w2 K(q, q, q c) + sigma_b2) / q`` and its slope
``f'(c) = sigma_w2 dK/dq12 (q, q, q c)`` (Price's theorem), as sympy
expressions in the symbols :data:`q`, :data:`c`, :data:`sigma_w2`,
:data:`sigma_b2` (and :data:`q11`, :data:`q22`, :data:`q12` for the kernel),
together with numpy functions compiled once from them.

Families with a closed form
---------------------------
``piecewise_linear``
    :math:`\phi(x) = \alpha_+ x` for :math:`x > 0`, :math:`\alpha_- x`
    otherwise (ReLU, leaky ReLU, linear): the arc-cosine kernel [1]_,
    :math:`K = \alpha_+\alpha_- q_{12} + (\alpha_+ - \alpha_-)^2
    (\sqrt{q_{11}q_{22} - q_{12}^2} + (\pi - \arccos\rho)\, q_{12}) / (2\pi)`,
    :math:`\rho = q_{12}/\sqrt{q_{11}q_{22}}`.
``erf``
    :math:`\phi(x) = A\,\mathrm{erf}(Bx)`: the arcsine kernel [2]_,
    :math:`K = (2A^2/\pi)\arcsin(2B^2 q_{12} /
    \sqrt{(1 + 2B^2 q_{11})(1 + 2B^2 q_{22})})`.
``exp_poly``
    :math:`\phi(x) = P(x) + \sum_j A_j e^{b_j x}` with :math:`P` a polynomial
    and complex :math:`b_j` (so ``sin``, ``cos``, ``sinh``, ``cosh``,
    ``exp`` and polynomials): the polynomial part through its Hermite
    expansion, the exponentials through the Gaussian moment generating
    function, the cross terms through the Cameron-Martin shift (see
    :func:`kernel`, Notes).

Anything else (tanh, GELU, SiLU, ELU, SELU, softplus, sigmoid, hardtanh) has
no closed-form kernel; asking for one raises :class:`NoClosedFormError`, whose
message says which parts are numeric only.

References
----------
.. [1] Y. Cho and L. K. Saul, "Kernel methods for deep learning", NeurIPS
   2009, eq. (6) with n = 1 (and n = 0 for the slope).
.. [2] C. K. I. Williams, "Computing with infinite networks", NeurIPS 1997,
   eq. (11).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ._errors import SigpropError
from .activations import Activation, activation, x_sym

__all__ = [
    "NoClosedFormError",
    "ClosedForm",
    "closed_form",
    "has_closed_form",
    "kernel",
    "q_map",
    "c_map",
    "c_map_slope",
    "q",
    "c",
    "eps",
    "q11",
    "q22",
    "q12",
    "sigma_w2",
    "sigma_b2",
]

q = sympy.Symbol("q", positive=True)
c = sympy.Symbol("c", real=True)
eps = sympy.Symbol("epsilon", nonnegative=True)
q11 = sympy.Symbol("q11", positive=True)
q22 = sympy.Symbol("q22", positive=True)
q12 = sympy.Symbol("q12", real=True)
sigma_w2 = sympy.Symbol("sigma_w2", nonnegative=True)
sigma_b2 = sympy.Symbol("sigma_b2", nonnegative=True)

_NUMERIC_ONLY = (
    "its q-map, c-map and their slopes are numeric only (Gauss-Legendre and "
    "Mehler quadrature in float64, see sigprop.GaussianExpectations; mpmath "
    "quadrature with `sp.MeanField(..., dps=...)`)"
)
_FAMILIES = (
    "relu, leaky_relu, linear (arc-cosine kernel), A*erf(B*x) (arcsine "
    "kernel), polynomials, sin, cos, sinh, cosh, exp and sums of polynomials "
    "and exponentials exp(b*x)"
)


class NoClosedFormError(SigpropError, ValueError):
    """An activation has no closed-form Gaussian kernel in sigprop.symbolic."""


@dataclass(frozen=True, eq=False)
class ClosedForm:
    """The closed-form maps of one activation, exact and compiled.

    Attributes
    ----------
    activation : str
        Name of the activation.
    family : str
        ``"piecewise_linear"``, ``"erf"`` or ``"exp_poly"``.
    kernel : sympy.Expr
        :math:`K(q_{11}, q_{22}, q_{12}) = E[\\phi(u_1)\\phi(u_2)]`.
    dkernel : sympy.Expr
        :math:`\\partial K / \\partial q_{12} = E[\\phi'(u_1)\\phi'(u_2)]`.
    q_map, c_map, c_map_slope : sympy.Expr
        ``V(q)``, ``f(c)`` and ``f'(c)`` in ``q, c, sigma_w2, sigma_b2``.
    smooth : bool
        True when ``f`` is analytic at ``c = 1`` (all but the kinked
        piecewise-linear family).
    """

    activation: str
    family: str
    kernel: sympy.Expr
    dkernel: sympy.Expr
    q_map: sympy.Expr
    c_map: sympy.Expr
    c_map_slope: sympy.Expr
    smooth: bool
    kernel_num: sympy.Expr | None = None
    dkernel_num: sympy.Expr | None = None
    _fns: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)

    def _compiled(self, name: str, args: tuple[sympy.Symbol, ...], modules: Any) -> Any:
        key = f"{name}:{modules}"
        fn = self._fns.get(key)
        if fn is None:
            # a numerically safer variant, where the display form is not
            expr = getattr(self, name + "_num", None)
            if expr is None:
                expr = getattr(self, name)
            fn = sympy.lambdify(args, expr, modules=modules)
            self._fns[key] = fn
        return fn

    def kernel_fn(self, modules: Any = "numpy") -> Callable[..., Any]:
        """``K(q11, q22, q12)`` compiled (numpy by default, or ``"mpmath"``)."""
        return self._compiled("kernel", (q11, q22, q12), modules)  # type: ignore[no-any-return]

    def dkernel_fn(self, modules: Any = "numpy") -> Callable[..., Any]:
        """``dK/dq12 (q11, q22, q12)`` compiled."""
        return self._compiled("dkernel", (q11, q22, q12), modules)  # type: ignore[no-any-return]

    def q_map_fn(self, modules: Any = "numpy") -> Callable[..., Any]:
        """``V(q, sigma_w2, sigma_b2)`` compiled."""
        return self._compiled("q_map", (q, sigma_w2, sigma_b2), modules)  # type: ignore[no-any-return]

    def c_map_fn(self, modules: Any = "numpy") -> Callable[..., Any]:
        """``f(c, q, sigma_w2, sigma_b2)`` compiled."""
        return self._compiled("c_map", (c, q, sigma_w2, sigma_b2), modules)  # type: ignore[no-any-return]

    def c_map_slope_fn(self, modules: Any = "numpy") -> Callable[..., Any]:
        """``f'(c, q, sigma_w2, sigma_b2)`` compiled."""
        return self._compiled("c_map_slope", (c, q, sigma_w2, sigma_b2), modules)  # type: ignore[no-any-return]


# -- the families -----------------------------------------------------------------


def _kernel_piecewise_linear(neg: sympy.Expr, pos: sympy.Expr) -> sympy.Expr:
    rho = q12 / sympy.sqrt(q11 * q22)
    arc = sympy.sqrt(q11 * q22 - q12**2) + (sympy.pi - sympy.acos(rho)) * q12
    return neg * pos * q12 + (pos - neg) ** 2 * arc / (2 * sympy.pi)


def _kernel_erf(amp: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    b2 = b**2
    r = 2 * b2 * q12 / sympy.sqrt((1 + 2 * b2 * q11) * (1 + 2 * b2 * q22))
    return 2 * amp**2 / sympy.pi * sympy.asin(r)


def _match_erf(expr: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(A, B)`` when ``expr == A erf(B x)``."""
    amp, rest = expr.as_independent(x_sym, as_Add=False)
    if isinstance(rest, sympy.erf):
        arg = rest.args[0]
        b, tail = arg.as_independent(x_sym, as_Add=False)
        if tail == x_sym and b.is_real and b != 0 and amp.is_real:
            return amp, b
    return None


def _gauss_moment(n: int, var: sympy.Expr) -> sympy.Expr:
    """:math:`E[v^n]` for :math:`v \\sim N(0, var)`: ``(n-1)!! var^(n/2)``."""
    if n % 2:
        return sympy.Integer(0)
    return sympy.factorial2(n - 1) * var ** (n // 2)


def _poly_mean(poly: sympy.Poly, shift: sympy.Expr, var: sympy.Expr) -> sympy.Expr:
    """:math:`E[P(v + m)]` for :math:`v \\sim N(0, var)`."""
    y = sympy.Dummy("y")
    shifted = sympy.Poly(sympy.expand(poly.as_expr().subs(x_sym, y + shift)), y)
    return sympy.Add(
        *(coef * _gauss_moment(mon[0], var) for mon, coef in shifted.terms())
    )


def _hermite_kernel(poly: sympy.Poly) -> sympy.Expr:
    r"""E[P(u1) P(u2)] through the Hermite expansion of P.

    With :math:`u_i = \sqrt{q_{ii}} z_i` and
    :math:`x^n = \sum_j \frac{n!}{j!\,2^j\,(n-2j)!} He_{n-2j}(x)`,
    :math:`P(\sqrt{q} z) = \sum_k h_k(q) He_k(z)`; since
    :math:`E[He_j(z_1) He_k(z_2)] = \delta_{jk} k!\,\rho^k`,
    :math:`K = \sum_k k!\,h_k(q_{11}) h_k(q_{22})\rho^k`, and
    :math:`q_{11}^{k/2} q_{22}^{k/2}\rho^k = q_{12}^k` leaves a polynomial.
    """
    coeffs = {mon[0]: coef for mon, coef in poly.terms()}
    deg = poly.degree() if coeffs else 0

    def h(k: int, var: sympy.Expr) -> sympy.Expr:
        # h_k(q) / q^(k/2): integer powers of q only
        out = sympy.Integer(0)
        for n in range(k, deg + 1, 2):
            if n in coeffs:
                j = (n - k) // 2
                out += (
                    coeffs[n]
                    * sympy.factorial(n)
                    / (sympy.factorial(j) * 2**j * sympy.factorial(k))
                    * var**j
                )
        return out

    return sympy.Add(
        *(sympy.factorial(k) * h(k, q11) * h(k, q22) * q12**k for k in range(deg + 1))
    )


def _split_exp_poly(
    expr: sympy.Expr,
) -> tuple[sympy.Poly, list[tuple[sympy.Expr, sympy.Expr]]] | None:
    """``P`` and ``[(A_j, b_j)]`` with ``expr == P(x) + sum A_j exp(b_j x)``."""
    if expr.has(sympy.Piecewise, sympy.Abs, sympy.Heaviside, sympy.Max, sympy.Min):
        return None
    rewritten = sympy.powsimp(sympy.expand(expr.rewrite(sympy.exp)), combine="exp")
    poly_part = sympy.Integer(0)
    exps: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(rewritten):
        if term.is_polynomial(x_sym):
            poly_part += term
            continue
        amp, rest = term.as_independent(x_sym, as_Add=False)
        if not isinstance(rest, sympy.exp):
            return None
        arg = sympy.expand(rest.args[0])
        if not arg.is_polynomial(x_sym) or sympy.degree(arg, x_sym) != 1:
            return None
        b = arg.coeff(x_sym, 1)
        amp = amp * sympy.exp(arg.coeff(x_sym, 0))
        exps[b] = exps.get(b, sympy.Integer(0)) + amp
    pairs = [(amp, b) for b, amp in exps.items() if sympy.simplify(amp) != 0]
    return sympy.Poly(poly_part, x_sym), pairs


def _kernel_exp_poly(
    poly: sympy.Poly, pairs: list[tuple[sympy.Expr, sympy.Expr]]
) -> sympy.Expr:
    out = _hermite_kernel(poly) if not poly.is_zero else sympy.Integer(0)
    for amp, b in pairs:
        # Cameron-Martin: E[P(u1) e^{b u2}] = e^{b^2 q22/2} E[P(v + b q12)]
        if not poly.is_zero:
            out += amp * sympy.exp(b**2 * q22 / 2) * _poly_mean(poly, b * q12, q11)
            out += amp * sympy.exp(b**2 * q11 / 2) * _poly_mean(poly, b * q12, q22)
        for amp2, b2 in pairs:
            # moment generating function of the pair
            out += (
                amp * amp2 * sympy.exp(b**2 * q11 / 2 + b2**2 * q22 / 2 + b * b2 * q12)
            )
    out = sympy.expand(out)
    if out.has(sympy.I):
        out = sympy.expand(sympy.expand_complex(out))
        out = sympy.simplify(out.rewrite(sympy.exp))
    if out.has(sympy.I):  # pragma: no cover - a real phi has a real kernel
        raise NoClosedFormError("the exponential kernel did not reduce to a real form")
    return sympy.simplify(out)


# -- public API -------------------------------------------------------------------


def _numeric_only_message(act: Activation) -> str:
    return (
        f"activation {act.name!r} has no closed-form Gaussian kernel in "
        f"sigprop.symbolic: {_NUMERIC_ONLY}. Closed forms exist for: "
        f"{_FAMILIES}."
    )


@functools.lru_cache(maxsize=64)
def _closed_form_cached(key: str, act: Activation) -> ClosedForm:
    del key  # the cache key; the activation itself is hashed by name
    family: str
    smooth = True
    if act.closed_form == "piecewise_linear" and act.slopes is not None:
        neg, pos = (sympy.nsimplify(s) for s in act.slopes)
        kern = _kernel_piecewise_linear(neg, pos)
        family = "piecewise_linear"
        smooth = neg == pos
        if smooth:
            kern = pos**2 * q12
    elif act.expr is None:
        raise NoClosedFormError(
            _numeric_only_message(act)
            + " A plain callable has no expression to integrate symbolically."
        )
    else:
        erf = _match_erf(act.expr)
        split = None if erf is not None else _split_exp_poly(act.expr)
        if erf is not None:
            kern = _kernel_erf(*erf)
            family = "erf"
        elif split is not None:
            kern = _kernel_exp_poly(*split)
            family = "exp_poly"
        else:
            raise NoClosedFormError(_numeric_only_message(act))
    dkern = sympy.simplify(sympy.diff(kern, q12))
    kern_num = dkern_num = None
    if family == "piecewise_linear" and not smooth:
        # acos(q12 / sqrt(q11 q22)) loses half the digits near q12^2 = q11 q22
        # (and is NaN one rounding beyond); the angle as atan2 of the exact
        # sqrt(q11 q22 - q12^2) is accurate there
        neg, pos = (sympy.nsimplify(v) for v in act.slopes)  # type: ignore[union-attr]
        root = sympy.sqrt(sympy.Max(0, q11 * q22 - q12**2))
        theta = sympy.atan2(root, q12)
        k2 = (pos - neg) ** 2 / (2 * sympy.pi)
        kern_num = neg * pos * q12 + k2 * (root + (sympy.pi - theta) * q12)
        dkern_num = neg * pos + k2 * (sympy.pi - theta)
    qm = sigma_w2 * kern.subs({q11: q, q22: q, q12: q}) + sigma_b2
    cm = (sigma_w2 * kern.subs({q11: q, q22: q, q12: q * c}) + sigma_b2) / q
    cs = sigma_w2 * dkern.subs({q11: q, q22: q, q12: q * c})
    return ClosedForm(
        activation=act.name,
        family=family,
        kernel=kern,
        dkernel=dkern,
        q_map=sympy.simplify(qm),
        c_map=sympy.simplify(cm),
        c_map_slope=sympy.simplify(cs),
        smooth=smooth,
        kernel_num=kern_num,
        dkernel_num=dkern_num,
    )


def closed_form(act: Any, **params: Any) -> ClosedForm:
    """The :class:`ClosedForm` of an activation (cached per activation).

    Parameters
    ----------
    act : str or Activation
        Anything :func:`sigprop.activation` accepts.
    **params
        Parameters of a registered activation (``alpha=0.1``).

    Raises
    ------
    NoClosedFormError
        When the activation has no closed-form kernel; the message names it
        and says that its maps are numeric only.
    """
    a = activation(act, **params)
    return _closed_form_cached(a.name if a.kind != "callable" else str(id(a)), a)


def has_closed_form(act: Any, **params: Any) -> bool:
    """True when :func:`closed_form` succeeds for this activation."""
    try:
        closed_form(act, **params)
    except NoClosedFormError:
        return False
    return True


def kernel(act: Any, **params: Any) -> sympy.Expr:
    r"""The Gaussian kernel :math:`E[\phi(u_1)\phi(u_2)]` in ``q11, q22, q12``.

    Notes
    -----
    For ``phi = P + sum_j A_j exp(b_j x)`` the kernel has three kinds of term.
    Polynomial times polynomial: the Hermite expansion (see the module
    docstring). Exponential times exponential: the moment generating function
    :math:`E[e^{b u_1 + b' u_2}] = e^{b^2 q_{11}/2 + b'^2 q_{22}/2 + b b'
    q_{12}}`. Polynomial times exponential: tilting the Gaussian by
    :math:`e^{b u_2}` shifts the mean of :math:`u_1` by
    :math:`b\,\mathrm{Cov}(u_1, u_2) = b q_{12}`, so
    :math:`E[P(u_1) e^{b u_2}] = e^{b^2 q_{22}/2} E[P(v + b q_{12})]`,
    :math:`v \sim N(0, q_{11})`.

    Examples
    --------
    ``sin`` gives :math:`e^{-(q_{11}+q_{22})/2}\sinh q_{12}`:

    >>> import sympy, sigprop as sp
    >>> from sigprop.symbolic import q11, q22, q12
    >>> K = sp.symbolic.kernel("sin")
    >>> expected = sympy.exp(-(q11 + q22) / 2) * sympy.sinh(q12)
    >>> sympy.simplify((K - expected).rewrite(sympy.exp))
    0
    """
    return closed_form(act, **params).kernel


def q_map(act: Any, **params: Any) -> sympy.Expr:
    r"""The length map ``V(q) = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2``.

    Returns
    -------
    sympy.Expr
        In the symbols :data:`q`, :data:`sigma_w2`, :data:`sigma_b2`.

    Raises
    ------
    NoClosedFormError
        For activations without a closed form (the message says which parts
        are numeric only).

    Examples
    --------
    >>> import sympy, sigprop as sp
    >>> from sigprop.symbolic import q, sigma_w2, sigma_b2
    >>> sp.symbolic.q_map("relu") == sigma_w2 * q / 2 + sigma_b2
    True
    """
    return closed_form(act, **params).q_map


def c_map(act: Any, **params: Any) -> sympy.Expr:
    r"""The correlation map ``f(c) = (sigma_w2 K(q, q, q c) + sigma_b2) / q``.

    ``q`` is the variance of both inputs (``q_star`` for THEORY.md's map).

    Returns
    -------
    sympy.Expr
        In the symbols :data:`c`, :data:`q`, :data:`sigma_w2`,
        :data:`sigma_b2`.

    Raises
    ------
    NoClosedFormError
        For activations without a closed form.

    Examples
    --------
    ReLU at ``(2, 0)``: :math:`f(0) = 1/\pi`.

    >>> import sympy, sigprop as sp
    >>> from sigprop.symbolic import c, q, sigma_w2, sigma_b2
    >>> f = sp.symbolic.c_map("relu").subs({sigma_w2: 2, sigma_b2: 0})
    >>> sympy.simplify(f.subs(c, 0))
    1/pi
    """
    return closed_form(act, **params).c_map


def c_map_slope(act: Any, **params: Any) -> sympy.Expr:
    r"""``f'(c) = sigma_w2 E[phi'(u_1) phi'(u_2)]`` (Price's theorem).

    Raises
    ------
    NoClosedFormError
        For activations without a closed form.
    """
    return closed_form(act, **params).c_map_slope


# -- the numeric core's engine for closed forms ---------------------------------------

# Gauss-Legendre nodes for half_diffsq: the integrand dK/dq12 is entire in c
# for the exp_poly family, so 32 nodes on an interval of length <= 2 are exact
# to rounding for polynomials of degree <= 32 and for exponentials at q <= 10
_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)


class ClosedEngine:
    """The expectations of :class:`sigprop.GaussianExpectations` from a closed form.

    Used by the numeric core for the ``exp_poly`` family (sin, cos,
    polynomials, ...), whose kernel it would otherwise integrate numerically.
    The near-diagonal quantity
    :math:`D(q, \\epsilon) = E[\\phi(u)^2] - E[\\phi(u_1)\\phi(u_2)]` is computed
    without cancellation as
    :math:`q \\int_{1-\\epsilon}^{1} \\partial_{q_{12}}K(q, q, q c)\\,dc`.
    """

    def __init__(self, cf: ClosedForm, name: str):
        self.cf = cf
        self.name = name
        self._k = cf.kernel_fn()
        self._dk = cf.dkernel_fn()
        diag = cf.kernel.subs({q11: q, q22: q, q12: q})
        self._dq = sympy.lambdify(q, sympy.diff(diag, q), "numpy")

    def _finite(self, value: Any, what: str) -> np.ndarray:
        from ._errors import MomentOverflowError

        out = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(out)):
            raise MomentOverflowError(
                f"the Gaussian moment {what} of activation {self.name!r} is not "
                "finite at these variances (its closed form overflows). Use "
                "smaller variances."
            )
        return out

    def _call(self, fn: Callable[..., Any], what: str, *args: np.ndarray) -> np.ndarray:
        shape = np.broadcast(*args).shape
        with np.errstate(over="ignore", invalid="ignore"):
            val = fn(*args)
        return self._finite(np.broadcast_to(val, shape).copy(), what)

    def e_phi2(self, qv: np.ndarray) -> np.ndarray:
        return self._call(self._k, "E[phi^2]", qv, qv, qv)

    def e_dphi2(self, qv: np.ndarray) -> np.ndarray:
        return self._call(self._dk, "E[phi'^2]", qv, qv, qv)

    def de_phi2_dq(self, qv: np.ndarray) -> np.ndarray:
        return self._call(self._dq, "dE[phi^2]/dq", qv)

    def e_phiphi(self, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
        return self._call(self._k, "E[phi phi]", a, b, r)

    def e_dd(self, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
        return self._call(self._dk, "E[phi' phi']", a, b, r)

    def half_diffsq(self, qv: np.ndarray, e: np.ndarray) -> np.ndarray:
        qv, e = np.broadcast_arrays(np.asarray(qv, float), np.asarray(e, float))
        e = np.clip(e, 0.0, 2.0)
        # c = 1 - e (1 + x) / 2 maps the nodes onto [1 - e, 1]
        cs = 1.0 - e[..., None] * (1.0 + _GL_X) / 2.0
        qq = qv[..., None]
        vals = self._call(self._dk, "E[phi' phi']", qq, qq, qq * cs)
        return qv * e / 2.0 * (vals @ _GL_W)

    def diffsq_stepper(self, qv: float) -> Callable[[float], float]:
        qa = np.array(qv)

        def step(e: float) -> float:
            return float(self.half_diffsq(qa, np.array(e)))

        return step


def closed_engine(act: Activation) -> ClosedEngine | None:
    """A :class:`ClosedEngine` for the numeric core, or None.

    Only the ``exp_poly`` and non-standard ``erf`` families are offered: the
    core has its own exact engines for the piecewise-linear maps and for
    ``erf`` itself.
    """
    if act.closed_form is not None or act.expr is None:
        return None
    try:
        cf = closed_form(act)
    except NoClosedFormError:
        return None
    return ClosedEngine(cf, act.name)
