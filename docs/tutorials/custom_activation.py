"""Tutorial: use an activation of your own.

Run it with ``python docs/tutorials/custom_activation.py``. Every number it
prints is checked by ``tests/test_docs.py``.
"""

import numpy as np

import sigprop as sp

# --- an expression in x -------------------------------------------------------
# LeCun's scaled tanh, 1.7159 tanh(2x/3), written as a sympy expression. Its
# derivative comes from sympy; its Gaussian integrals are computed numerically.
act = sp.activation("1.7159*tanh(2*x/3)")
print("name:", act.name, " kind:", act.kind, " smooth:", act.is_smooth)

sw2 = sp.edge_of_chaos(act, sigma_b2=0.05)
mf = sp.MeanField(act, sw2, 0.05)
print(f"scaled tanh EOC at sigma_b2=0.05: sigma_w2 = {sw2:.10f}")
print(f"scaled tanh L=100: l* = {mf.equilibrium(100).layer:.8f}")

# A check you can do by hand: a tanh(b x) with (sigma_w2, sigma_b2) is tanh
# with (a^2 b^2 sigma_w2, b^2 sigma_b2) seen through pre-activations scaled by
# b, so both have the same correlation map, edge of chaos and l*.
a, b = 1.7159, 2.0 / 3.0
plain = sp.MeanField("tanh", a**2 * b**2 * sw2, b**2 * 0.05)
print(f"plain tanh at the mapped point: chi_1 = {plain.chi_1:.10f}")
print(f"plain tanh L=100: l* = {plain.equilibrium(100).layer:.8f}")


# --- a numpy callable -----------------------------------------------------------
# Any numpy-vectorized function works. Give its derivative if you have it
# (otherwise a fourth-order finite difference is used) and its kinks, the
# points where it or its derivative is not smooth, so that quadrature panels
# end there.
def bent_identity(x):
    return (np.sqrt(x**2 + 1.0) - 1.0) / 2.0 + x


def bent_identity_prime(x):
    return x / (2.0 * np.sqrt(x**2 + 1.0)) + 1.0


bent = sp.activation(bent_identity, derivative=bent_identity_prime, name="bent")
mf = sp.MeanField(bent, sigma_w2=0.5, sigma_b2=0.1)
print(
    f"bent identity (0.5, 0.1): phase = {mf.phase}, q* = {mf.q_star:.10f},"
    f" chi_1 = {mf.chi_1:.10f}"
)

# --- when there is no edge of chaos --------------------------------------------
# Some activations have no sigma_w2 with chi_1 = 1 at a given sigma_b2: the
# length map loses its fixed point first, or chi_1 jumps across 1 when q*
# changes branch. sigprop says so with a named error instead of a number.
for name in ("x*tanh(x)",):
    try:
        sp.edge_of_chaos(name, sigma_b2=0.05)
    except sp.NoEdgeOfChaosError as exc:
        print(f"{name}: NoEdgeOfChaosError: {exc}")
