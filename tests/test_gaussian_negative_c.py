"""Regression: half_diffsq at negative correlations (eps > 1) warns of nothing.

Found by the phase-diagram tests: MeanField's c* bracket reaches c < 0, where
the Mehler branch took log1p of a number below -1 (an 'invalid value'
RuntimeWarning, an error under this project's warning filter).
"""

import warnings

import numpy as np

import sigprop as sp
from sigprop.gaussian import expectations_for


def test_half_diffsq_at_negative_correlation_is_quiet_and_right():
    g = expectations_for(sp.activation("tanh"))
    q = np.array([0.7, 0.7])
    eps = np.array([1.5, 0.25])  # c = -0.5 and c = 0.75
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = g.half_diffsq(q, eps)
    want = g.e_phi2(q) - g.e_phiphi(q, q, q * (1 - eps))
    np.testing.assert_allclose(got, want, rtol=1e-12)
