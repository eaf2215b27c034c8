"""High-precision references for the tests: mpmath quadrature, kinks split.

Independent of sigprop's own integration code: only the activation's mpmath
evaluator (from its sympy expression) and its kink list are shared.
"""

from __future__ import annotations

import mpmath as mp


def _pts(points):
    inner = sorted({p for p in points if mp.isfinite(p)})
    return [-mp.inf, *inner, mp.inf]


def e1(f, q, kinks=(), g=None):
    """E[f(sqrt(q) z)^2] (or E[g(sqrt(q) z, z)] when g is given)."""
    q = mp.mpf(q)
    s = mp.sqrt(q)
    if g is None:
        def g(u, z):
            return f(u) ** 2
    pts = _pts([mp.mpf(k) / s for k in kinks] + [0])
    return mp.quad(lambda z: g(s * z, z) * mp.npdf(z), pts)


def e2(f1, f2, q11, q22, q12, kinks=()):
    """E[f1(u1) f2(u2)] for the Gaussian pair of covariance [[q11,q12],[q12,q22]]."""
    q11, q22, q12 = mp.mpf(q11), mp.mpf(q22), mp.mpf(q12)
    s1, s2 = mp.sqrt(q11), mp.sqrt(q22)
    c = q12 / (s1 * s2)
    a, d = mp.sqrt((1 + c) / 2), mp.sqrt((1 - c) / 2)
    ks = [mp.mpf(k) for k in kinks]

    def inner(z1):
        pts = [(k / s1 - a * z1) / d for k in ks] + [(a * z1 - k / s2) / d for k in ks]
        return mp.quad(
            lambda z2: f1(s1 * (a * z1 + d * z2)) * f2(s2 * (a * z1 - d * z2))
            * mp.npdf(z2),
            _pts(pts + [0]),
        )

    outer = [(ki / s1 + kj / s2) / (2 * a) for ki in ks for kj in ks] + [0]
    return mp.quad(lambda z1: inner(z1) * mp.npdf(z1), _pts(outer))
