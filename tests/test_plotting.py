"""sigprop.plotting: figures drawn without a display, checked by their data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import sigprop as sp  # noqa: E402
from sigprop import plotting  # noqa: E402
from sigprop.phase import phase_diagram  # noqa: E402

SW = np.linspace(0.5, 4.0, 6)
SB = np.linspace(0.0, 0.3, 5)


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tanh_pd():
    return phase_diagram("tanh", SW, SB, depth=20)


@pytest.fixture(scope="module")
def relu_pd():
    return phase_diagram("relu", SW, SB, depth=20)


def test_import_sigprop_does_not_import_matplotlib():
    code = "import sys, sigprop; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("quantity", ["chi_1", "xi_c", "l_star_fraction"])
def test_heat_map_draws_the_data_and_the_eoc_curve(tanh_pd, quantity):
    ax = plotting.plot_phase_diagram(tanh_pd, quantity)
    assert ax.get_xlabel() == r"$\sigma_w^2$" and ax.get_ylabel() == r"$\sigma_b^2$"
    mesh = next(c for c in ax.collections if c.get_label() == quantity)
    drawn = np.ma.masked_invalid(mesh.get_array()).reshape(tanh_pd.shape)
    want = np.ma.masked_invalid(tanh_pd.masked(quantity))
    assert np.array_equal(np.ma.getmaskarray(drawn), np.ma.getmaskarray(want))
    assert np.array_equal(drawn.compressed(), want.compressed())
    (line,) = [ln for ln in ax.lines if "edge of chaos" in ln.get_label()]
    x, y = line.get_data()
    assert np.array_equal(x, tanh_pd.eoc_sigma_w2) and np.array_equal(y, SB)
    if quantity == "xi_c":
        assert isinstance(mesh.norm, matplotlib.colors.LogNorm)


def test_phase_map_codes_and_legend(tanh_pd):
    fig, ax = plt.subplots()
    assert plotting.plot_phase_diagram(tanh_pd, "phase", ax=ax) is ax
    mesh = next(c for c in ax.collections if c.get_label() == "phase")
    codes = np.asarray(mesh.get_array()).reshape(tanh_pd.shape)
    for name, code in plotting.PHASE_CODES.items():
        assert np.array_equal(codes == code, tanh_pd.phase == name)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "ordered" in labels and "chaotic" in labels


def test_scale_invariant_eoc_is_a_point_and_undefined_region_is_named(relu_pd):
    ax = plotting.plot_phase_diagram(relu_pd, "chi_1")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("no finite q*" in s for s in labels)
    assert any("single point" in s for s in labels)
    (pt,) = [ln for ln in ax.lines if "single point" in ln.get_label()]
    assert pt.get_xydata().tolist() == [[2.0, 0.0]]
    assert any("EOC is a point" in t.get_text() for t in ax.texts)
    grey = [c for c in ax.collections if c.get_label() == "undefined"]
    assert len(grey) == 1
    shown = ~np.ma.getmaskarray(grey[0].get_array()).reshape(relu_pd.shape)
    assert np.array_equal(shown, ~relu_pd.defined)


def test_panels_have_four_axes(tanh_pd):
    axes = plotting.plot_phase_panels(tanh_pd)
    assert axes.shape == (2, 2)
    titles = [a.get_title() for a in axes.ravel()]
    assert titles[0] == "tanh: phase" and "L = 20" in titles[3]


def test_unknown_quantity(tanh_pd):
    with pytest.raises(sp.InvalidParameterError, match="quantity"):
        plotting.plot_phase_diagram(tanh_pd, "nonsense")


def test_information_curves_interior_and_boundary():
    eq = sp.MeanField("relu", 2.0, 0.0).equilibrium(60)
    ax = plotting.plot_information_curves(eq)
    f_line, b_line, mark = ax.lines[:3]
    assert np.array_equal(f_line.get_xdata(), np.arange(61))
    assert np.array_equal(np.asarray(f_line.get_ydata()), eq.forward)
    assert np.array_equal(b_line.get_xdata(), np.arange(1, 62))
    assert np.array_equal(np.asarray(b_line.get_ydata()), eq.backward)
    assert mark.get_xdata()[0] == eq.layer and eq.boundary is None
    assert mark.get_linestyle() == "-"
    assert ax.get_yscale() == "log"

    below = sp.MeanField("tanh", 0.6, 0.2).equilibrium(30)
    assert below.boundary == "below"
    ax = plotting.plot_information_curves(below)
    mark = ax.lines[2]
    assert mark.get_linestyle() == "--" and "boundary" in mark.get_label()


def test_save_information_curves(tmp_path):
    eq = sp.MeanField("relu", 2.0, 0.0).equilibrium(30)
    path = tmp_path / "curves.png"
    plotting.save_information_curves(eq, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plotting.save_information_curves(eq, tmp_path / "no" / "c.png")


def test_l_star_scaling_log_log_with_and_without_law():
    depths = np.array([10, 100, 1000])
    ls = np.array([3.0, 15.0, 70.0])
    ax = plotting.plot_l_star_scaling(depths, ls)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.lines) == 1
    law = 2.0 * depths**0.6
    ax = plotting.plot_l_star_scaling(
        depths, ls, law=law, law_label="law", boundary=[None, "above", None]
    )
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert np.array_equal(lines["law"].get_ydata(), law)
    assert np.array_equal(lines["boundary result"].get_xdata(), [100])
    with pytest.raises(sp.InvalidParameterError, match="same length"):
        plotting.plot_l_star_scaling([1, 2], [1.0])


def test_c_map_and_q_map_mark_their_fixed_points():
    mf = sp.MeanField("tanh", 2.0, 0.1)
    c = np.linspace(-1, 1, 21)
    ax = plotting.plot_c_map(c, mf.c_map(c), mf.c_star)
    fixed = [ln for ln in ax.lines if ln.get_label().startswith("fixed point")]
    assert fixed[0].get_xydata().tolist() == [[mf.c_star, mf.c_star]]
    assert np.array_equal(ax.lines[0].get_ydata(), mf.c_map(c))
    q = np.linspace(0, 3, 31)
    ax = plotting.plot_q_map(q, mf.q_map(q), mf.q_star)
    assert ax.get_xlabel() == "$q$"
    assert any(ln.get_label().startswith("fixed point") for ln in ax.lines)
