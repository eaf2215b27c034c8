r"""Gaussian expectations of an activation: the integrals every map is made of.

For an activation :math:`\phi` and a centred Gaussian pair :math:`(u_1, u_2)`
with covariance :math:`[[q_{11}, q_{12}], [q_{12}, q_{22}]]` the package needs

* :math:`E[\phi(u)^2]`, :math:`E[\phi'(u)^2]` and :math:`dE[\phi(u)^2]/dq`
  for :math:`u \sim N(0, q)` (one-dimensional);
* :math:`E[\phi(u_1)\phi(u_2)]` and :math:`E[\phi'(u_1)\phi'(u_2)]`
  (two-dimensional);
* :math:`D(q, \epsilon) = E[(\phi(u_1) - \phi(u_2))^2] / 2` at equal variances
  :math:`q` and correlation :math:`c = 1 - \epsilon`, which equals
  :math:`E[\phi(u)^2] - E[\phi(u_1)\phi(u_2)]` but is computed without the
  cancellation that difference suffers near :math:`c = 1` (THEORY.md, section
  2, "Numerical care").

Four engines compute them:

``piecewise_linear``
    Exact arc-cosine formulas (Cho and Saul 2009) for
    :math:`\phi(x) = \alpha_+ x` on :math:`x > 0` and :math:`\alpha_- x`
    otherwise (ReLU, leaky ReLU, linear).
``erf``
    Exact arcsine formulas (Williams 1997) for :math:`\phi = \mathrm{erf}`.
``closed``
    The closed forms of :mod:`sigprop.symbolic` for the activations that
    have one beyond the two above (sin, cos, polynomials, sums of
    polynomials and exponentials), compiled once.
``numeric``
    Composite Gauss-Legendre quadrature over :math:`z \in [-T, T]` with the
    activation's kinks as panel ends for one-dimensional integrals; for pairs,
    the Mehler expansion
    :math:`E[\phi(u_1)\phi(u_2)] = \sum_k c^k b_k(q_{11}) b_k(q_{22})` with
    Hermite coefficients :math:`b_k(q) = E[\phi(\sqrt q z) He_k(z)]/\sqrt{k!}`
    wherever its tail is provably below the tolerance (smooth activations),
    and a kink-aware two-dimensional composite quadrature otherwise.

The quadrature orders are not fixed blindly: one-dimensional integrals are
refined until two orders agree to about 1e-14 relative, and the Mehler series
is truncated only where the bound :math:`|c|^K \sqrt{t_1 t_2}` on its tail
(:math:`t_i` the missing part of :math:`E[\phi^2]`) is below ``1e-13`` of the
result's scale.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ._errors import MomentOverflowError
from .activations import Activation

__all__ = ["GaussianExpectations", "expectations_for"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_T1D = 10.0  # z-range of 1-D and 2-D quadrature: the Gaussian mass beyond is 1e-23
_TMEHLER = 13.0  # Mehler weights carry exp(-z^2/4): exp(-42) beyond 13
_M = 16  # Gauss-Legendre nodes per panel
_KMAX = 2048  # largest Mehler truncation tried before falling back to 2-D
_MEHLER_TOL = 1e-13
_CHUNK = 4_000_000  # points evaluated at once by the 2-D quadrature

_GL: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_HERMITE: OrderedDict[tuple[int, float], tuple[np.ndarray, ...]] = OrderedDict()


def _hermite_table(k: int, h: float) -> tuple[np.ndarray, ...]:
    """Nodes, weights and Hermite functions for the Mehler coefficients.

    Returns ``(z, wh, w, herm)`` with ``w`` the Gaussian quadrature weights,
    ``wh = w exp(z^2/4)`` and ``herm[j] = He_j(z) exp(-z^2/4) / sqrt(j!)``,
    built by the stable three-term recurrence of the normalized functions.
    Cached: the same table serves every variance and every layer.
    """
    key = (k, h)
    hit = _HERMITE.get(key)
    if hit is not None:
        _HERMITE.move_to_end(key)
        return hit
    z2, w2 = _rowwise_nodes(np.zeros((1, 0)), _TMEHLER, h)
    z, w = np.ascontiguousarray(z2[0]), np.ascontiguousarray(w2[0])
    herm = np.empty((k, z.size))
    herm[0] = np.exp(-(z**2) / 4)
    if k > 1:
        herm[1] = z * herm[0]
    for j in range(1, k - 1):
        herm[j + 1] = (z * herm[j] - math.sqrt(j) * herm[j - 1]) / math.sqrt(j + 1)
    # w holds pdf(z) = exp(-z^2/2)/sqrt(2 pi); herm carries exp(-z^2/4)
    wh = w * np.exp(z**2 / 4)
    out = (z, wh, w, herm)
    _HERMITE[key] = out
    if len(_HERMITE) > 16:
        _HERMITE.popitem(last=False)
    return out


def _gauss_legendre(m: int) -> tuple[np.ndarray, np.ndarray]:
    if m not in _GL:
        _GL[m] = np.polynomial.legendre.leggauss(m)
    return _GL[m]


def _rowwise_nodes(
    extra: np.ndarray, t: float, h: float, m: int = _M
) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes on [-t, t], one row per set of breaks.

    ``extra`` has shape (rows, k): breakpoints of each row besides the uniform
    panel ends (values outside [-t, t] are clipped and produce empty panels).
    Returns nodes ``z`` and weights ``w * pdf(z)``, each of shape (rows, P*m).
    """
    grid = np.linspace(-t, t, int(math.ceil(2 * t / h)) + 1)
    rows = extra.shape[0]
    x, w = _gauss_legendre(m)
    if extra.shape[1] == 0:
        a, b = grid[:-1], grid[1:]
        half = (b - a)[:, None] / 2
        z = ((a + b)[:, None] / 2 + half * x).ravel()
        wz = (half * w).ravel() * np.exp(-(z**2) / 2) / _SQRT_2PI
        return np.broadcast_to(z, (rows, z.size)), np.broadcast_to(wz, (rows, z.size))
    ends = np.concatenate(
        [np.broadcast_to(grid, (rows, grid.size)), np.clip(extra, -t, t)], axis=1
    )
    ends.sort(axis=1)
    a, b = ends[:, :-1], ends[:, 1:]
    half = (b - a)[..., None] / 2
    z = (a + b)[..., None] / 2 + half * x
    wz = half * w * np.exp(-(z**2) / 2) / _SQRT_2PI
    return z.reshape(rows, -1), wz.reshape(rows, -1)


def _g_theta(theta: np.ndarray) -> np.ndarray:
    """``sin(t) - t cos(t)`` without cancellation for small ``t``."""
    arr = np.asarray(theta, dtype=float)
    theta = np.atleast_1d(arr)
    out = np.sin(theta) - theta * np.cos(theta)
    small = theta < 0.5
    if np.any(small):
        t = theta[small]
        t2 = t * t
        # sum_{k>=1} (-1)^(k+1) 2k t^(2k+1) / (2k+1)!; 12 terms reach 1e-17 at 0.5
        term = t**3 / 3.0  # k = 1: 2 t^3 / 3!
        acc = term.copy()
        for k in range(2, 14):
            term = -term * t2 * k / ((k - 1) * (2 * k) * (2 * k + 1))
            acc += term
        out[small] = acc
    return out.reshape(arr.shape)


def _theta(c: np.ndarray, eps: np.ndarray | None = None) -> np.ndarray:
    """Angle ``arccos(c)``, computed from ``eps = 1 - c`` when given."""
    if eps is not None:
        return 2.0 * np.arcsin(np.sqrt(np.clip(eps, 0.0, 2.0) / 2.0))
    return np.arccos(np.clip(c, -1.0, 1.0))


def _check_finite(value: np.ndarray, act: Activation, what: str) -> np.ndarray:
    if not np.all(np.isfinite(value)):
        raise MomentOverflowError(
            f"the Gaussian moment {what} of activation {act.name!r} is not finite "
            "at these variances: the activation grows too fast for a Gaussian "
            "input. Use smaller variances or a different activation."
        )
    return value


class GaussianExpectations:
    """Gaussian expectations of one activation (see the module docstring).

    Parameters
    ----------
    act : Activation
        The activation :math:`\\phi`.

    Notes
    -----
    Use :func:`expectations_for`, which caches one instance per activation so
    that Hermite coefficients are computed once per distinct variance.
    """

    def __init__(self, act: Activation):
        self.act = act
        if act.closed_form == "piecewise_linear" and act.slopes is not None:
            self.engine = "piecewise_linear"
        elif act.closed_form == "erf":
            self.engine = "erf"
        else:
            self.engine = "numeric"
        # closed forms of sigprop.symbolic (sin, cos, polynomials, ...)
        from .symbolic import closed_engine

        self._closed = closed_engine(act) if self.engine == "numeric" else None
        if self._closed is not None:
            self.engine = "closed"
        # last Mehler truncation that converged: the next call starts there
        self._k_hint: dict[bool, int] = {}

    # -- one-dimensional ----------------------------------------------------------

    def e_phi2(self, q: Any) -> np.ndarray:
        """:math:`E[\\phi(\\sqrt q z)^2]` for an array of variances ``q``."""
        q = np.asarray(q, dtype=float)
        if self._closed is not None:
            return _check_finite(self._closed.e_phi2(q), self.act, "e_phi2")
        if self.engine == "piecewise_linear":
            return q * self._m2()
        if self.engine == "erf":
            return 2.0 / math.pi * np.arcsin(2 * q / (1 + 2 * q))
        return self._quad1d(lambda u, z: self.act(u) ** 2, q, "E[phi(u)^2]")

    def e_dphi2(self, q: Any) -> np.ndarray:
        """:math:`E[\\phi'(\\sqrt q z)^2]` for an array of variances ``q``."""
        q = np.asarray(q, dtype=float)
        if self._closed is not None:
            return _check_finite(self._closed.e_dphi2(q), self.act, "e_dphi2")
        if self.engine == "piecewise_linear":
            return np.full_like(q, self._m2())
        if self.engine == "erf":
            return 4.0 / math.pi / np.sqrt(1 + 4 * q)
        return self._quad1d(lambda u, z: self.act.derivative(u) ** 2, q, "E[phi'^2]")

    def de_phi2_dq(self, q: Any) -> np.ndarray:
        """:math:`d E[\\phi(\\sqrt q z)^2] / dq = E[\\phi(u)\\phi'(u) z]/\\sqrt q`.

        The form with ``z`` needs no second derivative, so it holds for
        activations with kinks; at ``q = 0`` the limit
        :math:`(\\phi\\phi')'(0)` is taken by a central difference.
        """
        q = np.asarray(q, dtype=float)
        if self._closed is not None:
            return _check_finite(self._closed.de_phi2_dq(q), self.act, "de_phi2_dq")
        if self.engine == "piecewise_linear":
            return np.full_like(q, self._m2())
        if self.engine == "erf":
            return 4.0 / math.pi / ((1 + 2 * q) * np.sqrt(1 + 4 * q))
        act = self.act
        flat = q.ravel()
        out = np.empty_like(flat)
        pos = flat > 0
        if np.any(pos):
            s = np.sqrt(flat[pos])
            out[pos] = self._quad1d(
                lambda u, z: act(u) * act.derivative(u) * z, flat[pos], "E[phi phi' z]"
            ) / s
        if np.any(~pos):
            h = 1e-4
            g = act(np.array([h, -h])) * act.derivative(np.array([h, -h]))
            out[~pos] = (g[0] - g[1]) / (2 * h)
        return out.reshape(q.shape)

    def _m2(self) -> float:
        assert self.act.slopes is not None
        neg, pos = self.act.slopes
        return (neg * neg + pos * pos) / 2.0

    def _quad1d(
        self,
        g: Callable[[np.ndarray, np.ndarray], np.ndarray],
        q: np.ndarray,
        what: str,
    ) -> np.ndarray:
        """Composite Gauss-Legendre of E[g(sqrt(q) z, z)], refined to agree."""
        flat = np.atleast_1d(q).ravel()
        if np.any(flat < 0):
            raise ValueError("variances must be >= 0")
        s = np.sqrt(flat)
        kinks = np.asarray(self.act.kinks, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = kinks[None, :] / s[:, None] if kinks.size else np.zeros((s.size, 0))
        extra = np.where(np.isfinite(extra), extra, -2 * _T1D)
        smax = float(s.max()) if s.size else 0.0
        h = min(1.0, 2.0 / smax) if smax > 0 else 1.0
        h = max(h, 2 * _T1D / 800)  # at most 800 panels
        prev = None
        for _ in range(4):
            z, w = _rowwise_nodes(extra, _T1D, h)
            with np.errstate(over="ignore", invalid="ignore"):
                val = np.sum(w * g(s[:, None] * z, z), axis=1)
            _check_finite(val, self.act, what)
            if prev is not None:
                scale = np.maximum(np.abs(val), 1e-300)
                if np.all(np.abs(val - prev) <= 1e-14 * scale + 1e-300):
                    break
            prev = val
            h /= 2
        # the Gaussian tail beyond T must be negligible: check the edge integrand
        with np.errstate(over="ignore", invalid="ignore"):
            edge = np.abs(g(s * _T1D, np.full_like(s, _T1D))) + np.abs(
                g(-s * _T1D, np.full_like(s, -_T1D))
            )
        tail = edge * math.exp(-(_T1D**2) / 2) / _SQRT_2PI
        if np.any(~np.isfinite(tail)) or np.any(tail > 1e-14 * np.abs(val) + 1e-300):
            raise MomentOverflowError(
                f"the Gaussian moment {what} of activation {self.act.name!r} has a "
                f"tail beyond {_T1D:g} standard deviations that is not negligible "
                "(the activation grows too fast): its maps are not computed."
            )
        return val.reshape(np.shape(q))

    # -- two-dimensional ----------------------------------------------------------

    def e_phiphi(self, q11: Any, q22: Any, q12: Any) -> np.ndarray:
        """:math:`E[\\phi(u_1)\\phi(u_2)]` (arrays broadcast together)."""
        q11, q22, q12 = np.broadcast_arrays(
            *(np.asarray(a, dtype=float) for a in (q11, q22, q12))
        )
        if self._closed is not None:
            out = self._closed.e_phiphi(q11, q22, q12)
            return _check_finite(out, self.act, "e_phiphi")
        if self.engine == "piecewise_linear":
            neg, pos = self.act.slopes  # type: ignore[misc]
            s12 = np.sqrt(q11 * q22)
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(s12 > 0, q12 / s12, 1.0)
            # J(theta) = sin(theta) + (pi - theta) cos(theta) = g(pi - theta),
            # g(t) = sin(t) - t cos(t): no cancellation as c -> -1
            j = _g_theta(np.arccos(-np.clip(c, -1.0, 1.0)))
            return neg * pos * q12 + (pos - neg) ** 2 * s12 * j / (2 * math.pi)
        if self.engine == "erf":
            r = 2 * q12 / np.sqrt((1 + 2 * q11) * (1 + 2 * q22))
            return 2.0 / math.pi * np.arcsin(np.clip(r, -1.0, 1.0))
        return self._numeric_pair(q11, q22, q12, derivative=False)

    def e_dd(self, q11: Any, q22: Any, q12: Any) -> np.ndarray:
        """:math:`E[\\phi'(u_1)\\phi'(u_2)]` (arrays broadcast together)."""
        q11, q22, q12 = np.broadcast_arrays(
            *(np.asarray(a, dtype=float) for a in (q11, q22, q12))
        )
        if self._closed is not None:
            return _check_finite(self._closed.e_dd(q11, q22, q12), self.act, "e_dd")
        if self.engine == "piecewise_linear":
            neg, pos = self.act.slopes  # type: ignore[misc]
            s12 = np.sqrt(q11 * q22)
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(s12 > 0, q12 / s12, 1.0)
            th = _theta(c)
            return (pos**2 + neg**2) * (math.pi - th) / (2 * math.pi) + (
                pos * neg * th / math.pi
            )
        if self.engine == "erf":
            det = (1 + 2 * q11) * (1 + 2 * q22) - 4 * q12**2
            return 4.0 / math.pi / np.sqrt(det)
        return self._numeric_pair(q11, q22, q12, derivative=True)

    def half_diffsq(self, q: Any, eps: Any) -> np.ndarray:
        """:math:`E[(\\phi(u_1)-\\phi(u_2))^2]/2` at variance ``q``, ``c = 1-eps``.

        Equal to ``E[phi^2] - E[phi(u1) phi(u2)]``; accurate in relative terms
        as ``eps -> 0``.
        """
        q, eps = np.broadcast_arrays(np.asarray(q, float), np.asarray(eps, float))
        if self._closed is not None:
            out = self._closed.half_diffsq(q, eps)
            return _check_finite(out, self.act, "half_diffsq")
        if self.engine == "piecewise_linear":
            neg, pos = self.act.slopes  # type: ignore[misc]
            th = _theta(1 - eps, eps)
            return q * (
                (pos**2 + neg**2) / 2 * eps
                - (pos - neg) ** 2 * _g_theta(th) / (2 * np.pi)
            )
        if self.engine == "erf":
            r = 2 * q / (1 + 2 * q)
            b = r * (1 - eps)
            one_m_r2 = 1 - r * r
            one_m_b2 = one_m_r2 + r * r * eps * (2 - eps)
            with np.errstate(divide="ignore", invalid="ignore"):
                num = r * eps * r * (2 - eps) / (
                    r * np.sqrt(one_m_b2) + b * np.sqrt(one_m_r2)
                )
                den = np.sqrt(one_m_r2 * one_m_b2) + r * b
                near = 2.0 / math.pi * np.arctan2(num, den)
            # for c < 0 (eps > 1) the plain difference has no cancellation
            far = 2.0 / math.pi * (np.arcsin(r) - np.arcsin(np.clip(b, -1.0, 1.0)))
            return np.where(eps > 1.0, far, near)
        return self._numeric_diffsq(q, eps)

    def diffsq_stepper(self, q: float) -> Callable[[float], float]:
        """A fast scalar ``eps -> half_diffsq(q, eps)`` for one fixed ``q``.

        The forward recursion calls this once per layer (10^5 times for a deep
        ReLU network), so the closed forms run on Python floats and the Mehler
        coefficients at ``q`` are computed once.
        """
        if self._closed is not None:
            at_zero = self._closed.half_diffsq(np.array([q]), np.array([1.0]))
            _check_finite(at_zero, self.act, "half_diffsq")
            return self._closed.diffsq_stepper(q)
        if self.engine == "piecewise_linear":
            neg, pos = self.act.slopes  # type: ignore[misc]
            m2 = (pos * pos + neg * neg) / 2
            k2 = (pos - neg) ** 2 / (2 * math.pi)

            def step_pl(eps: float) -> float:
                eps = min(max(eps, 0.0), 2.0)
                th = 2.0 * math.asin(math.sqrt(eps / 2.0))
                if th < 0.5:
                    t2 = th * th
                    term = th * t2 / 3.0
                    g = term
                    for j in range(2, 14):
                        term = -term * t2 * j / ((j - 1) * (2 * j) * (2 * j + 1))
                        g += term
                else:
                    g = math.sin(th) - th * math.cos(th)
                return q * (m2 * eps - k2 * g)

            return step_pl
        if self.engine == "erf":
            r = 2 * q / (1 + 2 * q)
            one_m_r2 = 1 - r * r

            def step_erf(eps: float) -> float:
                if eps > 1.0:  # c < 0: no cancellation in the plain difference
                    return 2.0 / math.pi * (math.asin(r) - math.asin(r * (1 - eps)))
                b = r * (1 - eps)
                one_m_b2 = one_m_r2 + r * r * eps * (2 - eps)
                num = r * eps * r * (2 - eps) / (
                    r * math.sqrt(one_m_b2) + b * math.sqrt(one_m_r2)
                )
                den = math.sqrt(one_m_r2 * one_m_b2) + r * b
                return 2.0 / math.pi * math.atan2(num, den)

            return step_erf
        if self.act.is_smooth:
            coef, tail, norm2, _ = self._coefficients(np.array([q]), derivative=False)
            if tail[0] <= 1e-13 * max(norm2[0], 1e-300):
                b2 = coef[0] ** 2
                k = np.arange(b2.size, dtype=float)

                def step_mehler(eps: float) -> float:
                    eps = min(max(eps, 0.0), 2.0)
                    if eps < 1.0:
                        one_m = -np.expm1(k * math.log1p(-eps))
                    else:
                        one_m = 1.0 - (1.0 - eps) ** k
                    return float(one_m @ b2)

                return step_mehler

        def step_generic(eps: float) -> float:
            return float(self.half_diffsq(np.array([q]), np.array([eps]))[0])

        return step_generic

    # -- numeric engine: Mehler series --------------------------------------------

    def _coefficients(self, q: np.ndarray, derivative: bool) -> tuple[np.ndarray, ...]:
        """Hermite coefficients of phi (or phi') at each variance, with tails.

        Returns ``(B, tail, norm2, K)`` where ``B[i, k] = b_k(q_i)``, ``norm2``
        is ``E[g^2]`` and ``tail = norm2 - sum_k B[i, k]^2`` (clipped at 0).
        """
        fn = self.act.derivative if derivative else self.act
        s = np.sqrt(q)
        smax = float(s.max()) if s.size else 0.0
        k = self._k_hint.get(derivative, 64)
        while True:
            h = min(0.5, 4.0 / math.sqrt(k), 1.0 / smax if smax > 0 else 0.5)
            # snap to a power of two so that the Hermite table is reused
            h = max(2.0 ** math.floor(math.log2(h)), 2.0**-6)
            z, wh, w, herm = _hermite_table(k, h)
            with np.errstate(over="ignore", invalid="ignore"):
                vals = fn(s[:, None] * z[None, :])
            _check_finite(vals, self.act, "Hermite coefficients")
            coef = (vals * wh) @ herm.T
            norm2 = (vals**2) @ w
            tail = np.maximum(norm2 - np.sum(coef**2, axis=1), 0.0)
            # converged: the last quarter of the coefficients carries nothing
            # and the subtraction tail is at rounding level
            last = np.sum(coef[:, -max(1, k // 4) :] ** 2, axis=1)
            scale = np.maximum(norm2, 1e-300)
            ok = (last <= 1e-15 * scale) & (tail <= 1e-13 * scale)
            if np.all(ok) or k >= _KMAX:
                self._k_hint[derivative] = k
                if np.all(ok):
                    # trim: the smallest truncation whose remainder is negligible
                    rem = np.cumsum((coef**2)[:, ::-1], axis=1)[:, ::-1]
                    rem /= scale[:, None]
                    need = int(np.max(np.argmax(rem <= 1e-16, axis=1))) + 1
                    need = min(k, max(need, 2))
                    tail = tail + np.sum(coef[:, need:] ** 2, axis=1)
                    coef = coef[:, :need]
                    self._k_hint[derivative] = max(64, 2 ** math.ceil(math.log2(need)))
                return coef, tail, norm2, np.array(coef.shape[1])
            k *= 2

    def _numeric_pair(
        self, q11: np.ndarray, q22: np.ndarray, q12: np.ndarray, derivative: bool
    ) -> np.ndarray:
        shape = q11.shape
        a11, a22, a12 = q11.ravel(), q22.ravel(), q12.ravel()
        s12 = np.sqrt(a11 * a22)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.clip(np.where(s12 > 0, a12 / s12, 1.0), -1.0, 1.0)
        out = np.empty_like(a11)
        done = np.zeros(a11.shape, dtype=bool)
        if self.act.is_smooth:
            uq, inv = np.unique(np.concatenate([a11, a22]), return_inverse=True)
            coef, tail, norm2, _ = self._coefficients(uq, derivative)
            i1, i2 = inv[: a11.size], inv[a11.size :]
            kk = coef.shape[1]
            bound = np.abs(c) ** kk * np.sqrt(tail[i1] * tail[i2])
            scale = np.sqrt(norm2[i1] * norm2[i2])
            done = bound <= _MEHLER_TOL * np.maximum(scale, 1e-300)
            if np.any(done):
                idx = np.nonzero(done)[0]
                coef_t = np.ascontiguousarray(coef.T)
                step = max(1, _CHUNK // (2 * kk))
                for lo in range(0, idx.size, step):
                    sel = idx[lo : lo + step]
                    cd, s1, s2 = c[sel], i1[sel], i2[sel]
                    acc = np.zeros(cd.shape)
                    for j in range(kk - 1, -1, -1):  # Horner in c
                        acc *= cd
                        acc += coef_t[j, s1] * coef_t[j, s2]
                    out[sel] = acc
        if not np.all(done):
            rest = ~done
            kind = "dd" if derivative else "phiphi"
            out[rest] = self._quad2d(kind, a11[rest], a22[rest], c[rest], None)
        return out.reshape(shape)

    def _numeric_diffsq(self, q: np.ndarray, eps: np.ndarray) -> np.ndarray:
        shape = q.shape
        fq, fe = q.ravel(), eps.ravel()
        out = np.empty_like(fq)
        done = np.zeros(fq.shape, dtype=bool)
        if self.act.is_smooth:
            uq, inv = np.unique(fq, return_inverse=True)
            coef, tail, norm2, _ = self._coefficients(uq, derivative=False)
            kk = coef.shape[1]
            # the tail of sum_k (1 - c^k) b_k^2 is at most 2 * tail
            done = 2 * tail[inv] <= _MEHLER_TOL * np.maximum(norm2[inv], 1e-300) * (
                np.maximum(fe, 1e-3)
            )
            if np.any(done):
                k = np.arange(kk)
                fd = fe[done]
                # 1 - c^k for c > 0 via expm1(k log c); c <= 0 directly
                pos = fd < 1.0
                one_m = np.empty((fd.size, kk))
                one_m[pos] = -np.expm1(np.outer(np.log1p(-fd[pos]), k))
                cn = 1 - fd[~pos]
                one_m[~pos] = 1 - cn[:, None] ** k[None, :]
                out[done] = np.sum(one_m * coef[inv[done]] ** 2, axis=1)
        if not np.all(done):
            rest = ~done
            s = fq[rest]
            out[rest] = self._quad2d("diffsq", s, s, 1 - fe[rest], fe[rest])
        return out.reshape(shape)

    # -- numeric engine: two-dimensional quadrature -----------------------------------

    def _quad2d(
        self,
        kind: str,
        q11: np.ndarray,
        q22: np.ndarray,
        c: np.ndarray,
        eps: np.ndarray | None,
    ) -> np.ndarray:
        """Kink-aware tensor quadrature over (z1, z2), vectorized over items.

        Writes :math:`u_1 = s_1(a z_1 + d z_2)`, :math:`u_2 = s_2(a z_1 - d z_2)`
        with :math:`a = \\sqrt{(1+c)/2}`, :math:`d = \\sqrt{(1-c)/2}`; the inner
        variable is the one with the larger coefficient, and the kinks of
        :math:`\\phi(u_1)` and :math:`\\phi(u_2)` are panel ends of the inner
        integral, moving with the outer variable, whose own panel ends sit
        where two inner kinks meet.
        """
        act = self.act
        s1, s2 = np.sqrt(q11), np.sqrt(q22)
        if eps is None:
            eps = 1 - c
        a = np.sqrt(np.clip(1 - eps / 2, 0.0, 1.0))
        d = np.sqrt(np.clip(eps / 2, 0.0, 1.0))
        inner_z1 = a >= d
        cx1 = np.where(inner_z1, a, d)
        cy1 = np.where(inner_z1, d, a)
        cx2 = np.where(inner_z1, a, -d)
        cy2 = np.where(inner_z1, -d, a)
        kinks = np.asarray(act.kinks, dtype=float)
        smax = float(max(s1.max(), s2.max())) if s1.size else 1.0
        h = min(1.0, 2.0 / smax) if smax > 0 else 1.0
        h = max(h, 2 * _T1D / 400)
        with np.errstate(divide="ignore", invalid="ignore"):
            k1 = kinks[None, :] / s1[:, None]
            k2 = kinks[None, :] / s2[:, None]
            # outer panel ends: y where an inner kink of u1 meets one of u2
            den = cy2 / cx2 - cy1 / cx1
            ky = (
                k2[:, None, :] / cx2[:, None, None]
                - k1[:, :, None] / cx1[:, None, None]
            ) / den[:, None, None]
        ky = ky.reshape(s1.size, -1)
        ky = np.where(np.isfinite(ky), ky, -2 * _T1D)
        k1 = np.where(np.isfinite(k1), k1, -2 * _T1D)
        k2 = np.where(np.isfinite(k2), k2, -2 * _T1D)
        y, wy = _rowwise_nodes(ky, _T1D, h)  # (n, Ny)
        n_in = (int(math.ceil(2 * _T1D / h)) + 2 * kinks.size) * _M
        per_item = y.shape[1] * n_in
        step = max(1, _CHUNK // max(per_item, 1))
        out = np.empty(s1.size)
        for lo in range(0, s1.size, step):
            sl = slice(lo, lo + step)
            yy = y[sl]  # (b, Ny)
            # inner breakpoints per (item, y): x = (k/s - cy y)/cx
            e1 = (k1[sl, None, :] - cy1[sl, None, None] * yy[..., None]) / cx1[
                sl, None, None
            ]
            e2 = (k2[sl, None, :] - cy2[sl, None, None] * yy[..., None]) / cx2[
                sl, None, None
            ]
            extra = np.concatenate([e1, e2], axis=2).reshape(
                b_rows := yy.shape[0] * yy.shape[1], 2 * kinks.size
            )
            del b_rows
            x, wx = _rowwise_nodes(extra, _T1D, h)  # (b*Ny, Nx)
            b = yy.shape[0]
            x = x.reshape(b, yy.shape[1], -1)
            wx = wx.reshape(b, yy.shape[1], -1)
            ys = yy[..., None]
            c1 = (cx1[sl, None, None], cy1[sl, None, None])
            c2 = (cx2[sl, None, None], cy2[sl, None, None])
            u1 = s1[sl, None, None] * (c1[0] * x + c1[1] * ys)
            u2 = s2[sl, None, None] * (c2[0] * x + c2[1] * ys)
            with np.errstate(over="ignore", invalid="ignore"):
                if kind == "phiphi":
                    g = act(u1) * act(u2)
                elif kind == "dd":
                    g = act.derivative(u1) * act.derivative(u2)
                else:
                    g = 0.5 * (act(u1) - act(u2)) ** 2
            val = np.einsum("bij,bij,bi->b", g, wx, wy[sl])
            out[sl] = _check_finite(val, act, kind)
        return out


_CACHE: dict[int, GaussianExpectations] = {}


def expectations_for(act: Activation) -> GaussianExpectations:
    """The (cached) :class:`GaussianExpectations` of an activation."""
    key = hash(act)
    hit = _CACHE.get(key)
    if hit is None or hit.act != act:
        hit = GaussianExpectations(act)
        _CACHE[key] = hit
    return hit
