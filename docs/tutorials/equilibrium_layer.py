"""Tutorial: predict the equilibrium layer of ReLU and tanh networks.

Run it with ``python docs/tutorials/equilibrium_layer.py``. Every number it
prints is checked by ``tests/test_docs.py``.
"""

import numpy as np

import sigprop as sp

# --- ReLU at its edge of chaos ------------------------------------------------
# Kaiming initialization, sigma_w2 = 2 and no bias, is ReLU's edge of chaos.
relu = sp.MeanField("relu", sigma_w2=2.0, sigma_b2=0.0)
print("relu phase:", relu.phase, " chi_1 =", relu.chi_1)

# Two inputs that start orthogonal (c0 = 0), a network of L = 100 hidden layers.
eq = relu.equilibrium(depth=100, c0=0.0)
print(f"relu L=100: l* = {eq.layer:.6f}  boundary = {eq.boundary}")

# The asymptotic law of THEORY.md section 6: l* ~ (3 pi / sqrt 2)^(2/5) L^(3/5).
for depth in (100, 1000, 10000):
    exact = relu.equilibrium(depth).layer
    law = (3 * np.pi / np.sqrt(2)) ** 0.4 * depth**0.6
    print(
        f"relu L={depth}: l* = {exact:.3f}, law = {law:.3f}, ratio = {exact / law:.4f}"
    )

# --- tanh on its edge of chaos ------------------------------------------------
# For a smooth activation the edge of chaos is a curve: solve chi_1 = 1 for
# sigma_w2 at a given sigma_b2.
sw2 = sp.edge_of_chaos("tanh", sigma_b2=0.05)
tanh = sp.MeanField("tanh", sigma_w2=sw2, sigma_b2=0.05)
print(f"tanh EOC at sigma_b2=0.05: sigma_w2 = {sw2:.12f}, chi_1 = {tanh.chi_1:.12f}")
eq = tanh.equilibrium(depth=100)
print(f"tanh EOC L=100: l* = {eq.layer:.6f}  boundary = {eq.boundary}")

# --- off the edge ---------------------------------------------------------------
# Ordered phase: correlations converge to 1 within a few xi_c, so l* does not
# grow with L. Chaotic phase: l* sits at a roughly fixed fraction of L.
ordered = sp.MeanField("tanh", sigma_w2=1.5, sigma_b2=0.05)
chaotic = sp.MeanField("tanh", sigma_w2=3.0, sigma_b2=0.05)
for label, mf in (("ordered", ordered), ("chaotic", chaotic)):
    print(f"tanh {label}: phase = {mf.phase}, xi_c = {mf.xi_c:.4f}")
    for depth in (50, 200, 1000):
        e = mf.equilibrium(depth)
        print(
            f"tanh {label} L={depth}: l* = {e.layer:.6f}"
            f"  l*/L = {e.fraction:.4f}  boundary = {e.boundary}"
        )

# --- a dataset instead of a pair ----------------------------------------------
# The dataset-level l* averages F and B over every pair of inputs, propagated
# exactly from the data (unequal norms included).
X = np.random.default_rng(0).normal(size=(30, 20))
eq_data = relu.equilibrium_for_data(X, depth=100)
print(f"relu data L=100: l* = {eq_data.layer:.6f}")

# The curves themselves: F(l) for l = 0..L and B(l) for l = 1..L+1.
print("F(0), F(L):", eq_data.forward[0], eq_data.forward[-1])
print("B(1), B(L+1):", eq_data.backward[0], eq_data.backward[-1])
