"""Generate the example figures under docs/figures/ (run from the repository root).

python docs/make_figures.py

One figure of each kind: phase-diagram heat maps (tanh, and relu with its
single-point edge of chaos), information curves (interior and boundary), l*
against L, and the c- and q-maps with their fixed points.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import sigprop as sp  # noqa: E402
from sigprop import plotting  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")


def _save(fig, name):
    fig.tight_layout()
    plotting.save_figure(fig, os.path.join(OUT, name), dpi=100)
    plt.close(fig)


def _law(act, sigma_w2, sigma_b2, depths):
    """The asymptotic l* of THEORY.md section 6 (``sp.asymptotics``) at depths."""
    law = sp.asymptotics(sp.MeanField(act, sigma_w2, sigma_b2))
    return np.array([float(law(int(d))) for d in depths])


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, n in (("tanh", 96), ("relu", 64)):
        pd = sp.phase_diagram(
            name, np.linspace(0.5, 4.0, n), np.linspace(0.0, 0.3, n), depth=100
        )
        fig = plt.figure(figsize=(11.0, 8.5))
        plotting.plot_phase_panels(pd, fig=fig)
        _save(fig, f"phase_{name}.png")

    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    plotting.plot_information_curves(
        sp.MeanField("relu", 2.0, 0.0).equilibrium(200), ax=axes[0]
    )
    plotting.plot_information_curves(
        sp.MeanField("tanh", 0.6, 0.2).equilibrium(30), ax=axes[1]
    )
    axes[0].set_title("relu at its EOC (2, 0), L = 200")
    axes[1].set_title("tanh ordered (0.6, 0.2), L = 30: boundary result")
    _save(fig, "information_curves.png")

    depths = np.unique(np.geomspace(10, 3000, 10).astype(int))
    mf = sp.MeanField("relu", 2.0, 0.0)
    eqs = [mf.equilibrium(int(d)) for d in depths]
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    plotting.plot_l_star_scaling(
        depths,
        [e.layer for e in eqs],
        ax=ax,
        boundary=[e.boundary for e in eqs],
        law=_law("relu", 2.0, 0.0, depths),
        law_label="asymptotic law (3 pi / sqrt 2)^(2/5) L^(3/5)",
    )
    ax.set_title("relu at its EOC")
    _save(fig, "l_star_scaling.png")

    mf = sp.MeanField("tanh", 2.0, 0.1)
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0))
    c = np.linspace(-1.0, 1.0, 201)
    plotting.plot_c_map(c, mf.c_map(c), mf.c_star, ax=axes[0])
    q = np.linspace(0.0, 3.0, 201)
    plotting.plot_q_map(q, mf.q_map(q), mf.q_star, ax=axes[1])
    axes[0].set_title("tanh (2, 0.1): c-map")
    axes[1].set_title("tanh (2, 0.1): q-map")
    _save(fig, "maps.png")


if __name__ == "__main__":
    main()
