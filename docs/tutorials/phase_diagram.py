"""Tutorial: draw a phase diagram of tanh networks.

Run it with ``python docs/tutorials/phase_diagram.py [OUT_DIR]``: it writes
``phase_tanh.png``, ``phase_tanh_l_star.png`` and ``phase_tanh.npz`` into
``OUT_DIR`` (default: the current directory). Needs matplotlib (the ``plot``
extra). Every number it prints is checked by ``tests/test_docs.py``.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to files, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import sigprop as sp  # noqa: E402
from sigprop import plotting  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
out.mkdir(parents=True, exist_ok=True)

# A grid of initializations: sigma_w2 across, sigma_b2 up. Results are arrays
# indexed [i_b, i_w], computed for the whole grid at once.
sigma_w2 = np.linspace(0.5, 4.0, 36)
sigma_b2 = np.linspace(0.0, 0.3, 16)
pd = sp.phase_diagram("tanh", sigma_w2, sigma_b2, depth=50, c0=0.0)
print("shape:", pd.shape)
print("phases:", sorted(set(pd.phase.ravel().tolist())))

# The edge of chaos, solved for every sigma_b2 of the grid: the same number
# that sp.edge_of_chaos gives for one sigma_b2.
i_b = 5
print(
    f"EOC at sigma_b2 = {pd.sigma_b2[i_b]:.6f}: sigma_w2 = {pd.eoc_sigma_w2[i_b]:.10f}"
)

# Any grid point is what MeanField computes for that one point.
i_w = 30
e = sp.MeanField("tanh", pd.sigma_w2[i_w], pd.sigma_b2[i_b]).equilibrium(50)
print(
    f"point (sigma_w2, sigma_b2) = ({pd.sigma_w2[i_w]:.6f}, {pd.sigma_b2[i_b]:.6f}):"
    f" phase = {pd.phase[i_b, i_w]}, l* = {pd.l_star[i_b, i_w]:.8f},"
    f" MeanField l* = {e.layer:.8f}"
)

# Where a quantity does not exist it is flagged, and the notes say why.
print("boundary flags:", sorted(set(pd.boundary.ravel().tolist())))
for note in pd.notes:
    print("note:", note)

# Four standard panels on one figure, and one quantity on its own axes.
fig = plt.figure(figsize=(11.0, 8.5))
plotting.plot_phase_panels(pd, fig=fig)
fig.tight_layout()
plotting.save_figure(fig, out / "phase_tanh.png", dpi=80)
plt.close(fig)

fig, ax = plt.subplots(figsize=(5.5, 4.0))
plotting.plot_phase_diagram(pd, "l_star_fraction", ax=ax)
fig.tight_layout()
plotting.save_figure(fig, out / "phase_tanh_l_star.png", dpi=80)
plt.close(fig)

# Save and load: the grid and every array round-trip exactly.
pd.save(out / "phase_tanh.npz")
again = sp.load_phase_diagram(out / "phase_tanh.npz")
print("reloaded equal:", again.equals(pd))
