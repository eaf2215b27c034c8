"""Tutorial: asymptotic laws, closed forms and high precision.

Run it with ``python docs/tutorials/asymptotics.py``. Every number it prints is
checked by ``tests/test_docs.py``.
"""

import mpmath

import sigprop as sp

# --- the edge-of-chaos law, exactly -------------------------------------------
# Near c = 1 the correlation map is 1 - f(1 - eps) = eps - a eps^p. For ReLU,
# whose map has a closed form, (a, p) come out of a series expansion in sympy.
law = sp.asymptotics("relu")
print(f"relu: regime = {law.regime}, p = {law.p}, a = {law.a}, exact = {law.exact}")
print(
    f"relu: l* ~ {law.prefactor} * L**({law.exponent}) = {float(law.prefactor):.10f}"
    f" * L**{float(law.exponent)}"
)

# The exact recursion approaches the law slowly (from below for ReLU).
relu = sp.MeanField("relu", 2.0, 0.0)
for depth in (100, 1000, 10000, 100000):
    exact = relu.equilibrium(depth).layer
    print(f"relu L={depth}: exact l* = {exact:.6f}, law = {float(law(depth)):.6f}")

# --- smooth activations -------------------------------------------------------
# tanh has no closed-form map: p = 2 and a = f''(1)/2 come from quadrature.
law = sp.asymptotics("tanh", sigma_b2=0.05)
print(
    f"tanh EOC: p = {law.p}, a = {float(law.a):.10f},"
    f" exponent = {float(law.exponent):.6f}, method = {law.method}"
)
mf = sp.MeanField("tanh", sp.edge_of_chaos("tanh", 0.05), 0.05)
for depth in (1000, 10000):
    exact = mf.equilibrium(depth).layer
    print(f"tanh L={depth}: exact l* = {exact:.4f}, law = {float(law(depth)):.4f}")

# --- off the edge: no power law, a regime -------------------------------------
ordered = sp.asymptotics("tanh", sigma_b2=0.05, sigma_w2=1.5)
print(
    f"tanh (1.5, 0.05): regime = {ordered.regime}, l* -> {ordered.limit:.6f}"
    f" = {ordered.bound_multiple:.4f} xi_c"
)
chaotic = sp.asymptotics("tanh", sigma_b2=0.05, sigma_w2=3.0)
print(f"tanh (3.0, 0.05): regime = {chaotic.regime}, l*/L -> {chaotic.fraction:.6f}")

# --- the closed forms themselves ----------------------------------------------
print("relu c-map:", sp.symbolic.c_map("relu"))
print(
    "erf has a closed form:",
    sp.symbolic.has_closed_form("erf"),
    " tanh:",
    sp.symbolic.has_closed_form("tanh"),
)

# --- high precision -----------------------------------------------------------
# MeanField(..., dps=N) runs the same recursions in mpmath at N digits: a
# reference for the float64 numbers.
mp = sp.MeanField("tanh", 1.5, 0.05, dps=30)
fl = sp.MeanField("tanh", 1.5, 0.05)
print(f"tanh (1.5, 0.05) q* at 30 digits: {mpmath.nstr(mp.q_star, 25)}")
print(f"tanh (1.5, 0.05) q* in float64:   {fl.q_star!r}")
eq = mp.equilibrium(50)
print(
    f"tanh (1.5, 0.05) L=50: l* at 30 digits = {mpmath.nstr(eq.layer, 25)}, float64 = "
    f"{fl.equilibrium(50).layer!r}"
)
