"""References for the tests, independent of sigprop's integration code.

One-dimensional Gaussian integrals use mpmath at high precision; pairs use
QUADPACK (scipy's adaptive ``quad``, nested), which reaches about 1e-13
relative. Only the activation's evaluators and its kink list are shared with
the code under test; the kinks are split exactly as the integrand's
breakpoints move.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from scipy import integrate

_PDF = 1.0 / math.sqrt(2 * math.pi)


def _pts(points):
    inner = sorted({p for p in points if mp.isfinite(p)})
    return [-mp.inf, *inner, mp.inf]


def e1(f, q, kinks=(), g=None):
    """E[f(sqrt(q) z)^2] in mpmath (or E[g(sqrt(q) z, z)] when g is given)."""
    q = mp.mpf(q)
    s = mp.sqrt(q)
    if g is None:

        def g(u, z):
            return f(u) ** 2

    pts = _pts([mp.mpf(k) / s for k in kinks] + [0])
    return mp.quad(lambda z: g(s * z, z) * mp.npdf(z), pts)


def _quad(fn, lo, hi, points):
    pts = sorted(p for p in set(points) if lo < p < hi)
    edges = [lo, *pts, hi]
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        val, _ = integrate.quad(fn, a, b, epsabs=1e-300, epsrel=2e-14, limit=400)
        total += val
    return total


def e2(f1, f2, q11, q22, q12, kinks=(), diffsq=False):
    """E[f1(u1) f2(u2)] for the pair of covariance [[q11, q12], [q12, q22]].

    ``f1``, ``f2`` are float functions. With ``diffsq``, E[(f1(u1) -
    f1(u2))^2]/2 instead (equal variances), written directly in the rotated
    coordinates so that it keeps its relative accuracy as c -> 1.
    """
    s1, s2 = math.sqrt(q11), math.sqrt(q22)
    c = q12 / (s1 * s2)
    a, d = math.sqrt((1 + c) / 2), math.sqrt((1 - c) / 2)
    t = 11.0
    ks = [float(k) for k in kinks]

    def inner(z1):
        if d > 0:
            pts = [(k / s1 - a * z1) / d for k in ks] + [
                (a * z1 - k / s2) / d for k in ks
            ]
        else:
            pts = []
        if diffsq:

            def fn(z2):
                return (
                    0.5
                    * (f1(s1 * (a * z1 + d * z2)) - f1(s2 * (a * z1 - d * z2))) ** 2
                    * (_PDF * math.exp(-z2 * z2 / 2))
                )
        else:

            def fn(z2):
                return (
                    f1(s1 * (a * z1 + d * z2))
                    * f2(s2 * (a * z1 - d * z2))
                    * (_PDF * math.exp(-z2 * z2 / 2))
                )

        return _quad(fn, -t, t, pts + [0.0])

    outer = [(ki / s1 + kj / s2) / (2 * a) for ki in ks for kj in ks] + [0.0]
    outer += [k / (s1 * a) for k in ks] + [k / (s2 * a) for k in ks]
    # the wedges where u1 and u2 straddle a kink are ~d/a wide in z1
    for k in ks:
        for s in (s1, s2):
            for w in (0.1, 1.0, 3.0, 11.0):
                outer += [k / (s * a) - w * d / a, k / (s * a) + w * d / a]
    return _quad(lambda z1: inner(z1) * _PDF * math.exp(-z1 * z1 / 2), -t, t, outer)


def floatfn(act, derivative=False):
    """A float -> float evaluator of an activation (numpy scalar path)."""
    fn = act.derivative if derivative else act

    def out(x):
        return float(fn(np.array(x)))

    return out
