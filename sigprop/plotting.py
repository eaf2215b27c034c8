"""Figures of sigprop results (matplotlib, the ``plot`` extra).

Every function takes an optional matplotlib ``ax``, draws on it (or on a new
figure's axes) and returns it. None computes theory: each draws the numbers
it is given, a :class:`~sigprop.PhaseDiagram`, an
:class:`~sigprop.Equilibrium` or plain arrays. matplotlib is imported inside
the functions, so ``import sigprop.plotting`` works without it until a figure
is drawn, and ``import sigprop`` never imports it.

Functions
---------
plot_phase_diagram       heat map of one quantity of a PhaseDiagram, EOC over it
plot_phase_panels        the four standard heat maps on one figure
plot_information_curves  F(l) and B(l) of an Equilibrium, l* marked
save_information_curves  the same, written to a file (used by the CLI)
plot_l_star_scaling      l* against L on log-log axes, a law beside it
plot_c_map, plot_q_map   a map with the diagonal and its fixed point
save_figure              write a figure without leaving a partial file
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import InvalidParameterError

if TYPE_CHECKING:
    from .equilibrium import Equilibrium
    from .phase import PhaseDiagram

__all__ = [
    "plot_phase_diagram",
    "plot_phase_panels",
    "plot_information_curves",
    "save_information_curves",
    "plot_l_star_scaling",
    "plot_c_map",
    "plot_q_map",
    "save_figure",
    "PHASE_CODES",
]

#: integer codes of the categorical ``phase`` heat map
PHASE_CODES = {"ordered": 0, "edge": 1, "chaotic": 2}

_LABELS = {
    "phase": "phase",
    "chi_1": r"$\chi_1$",
    "xi_c": r"$\xi_c$ (log scale)",
    "l_star_fraction": r"$l^*/L$",
    "l_star": r"$l^*$",
    "trainable_depth": r"$6\,\xi_c$ (log scale)",
    "q_star": r"$q^*$",
    "c_star": r"$c^*$",
}
_LOG = ("xi_c", "trainable_depth")
_UNDEFINED_COLOR = "0.85"


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is the plot extra
        raise ImportError(
            "sigprop.plotting needs matplotlib: pip install 'sigprop[plot]'."
        ) from exc
    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, ax = _plt().subplots(figsize=(5.0, 4.0))
    return ax


def _edges(x: np.ndarray) -> np.ndarray:
    """Cell edges of a pcolormesh for cell centres ``x``."""
    if x.size == 1:
        return (
            np.array([x[0] - 0.5, x[0] + 0.5])
            if x[0] > 0.5
            else np.array([0.0, 2 * x[0] + 1e-12 if x[0] > 0 else 1.0])
        )
    mid = (x[1:] + x[:-1]) / 2
    return np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])


def plot_phase_diagram(
    pd: PhaseDiagram,
    quantity: str = "phase",
    ax: Any = None,
    *,
    eoc: bool = True,
    colorbar: bool = True,
    cmap: str | None = None,
) -> Any:
    r"""Heat map of one quantity of a phase diagram, the edge of chaos over it.

    ``sigma_w2`` is the horizontal axis and ``sigma_b2`` the vertical one.
    Points where the quantity is undefined (no finite :math:`q^*`, no
    :math:`l^*`) are drawn in light grey and named in the legend, never as
    data. For a scale-invariant activation the edge of chaos is drawn as the
    single point it is, with a note.

    Parameters
    ----------
    pd : PhaseDiagram
        The data.
    quantity : str, default "phase"
        ``"phase"``, ``"chi_1"``, ``"xi_c"`` (log colour scale),
        ``"l_star_fraction"``, ``"l_star"``, ``"trainable_depth"`` (log),
        ``"q_star"`` or ``"c_star"``.
    ax : matplotlib Axes, optional
    eoc : bool, default True
        Draw the edge-of-chaos curve ``pd.eoc_sigma_w2`` (or point).
    colorbar : bool, default True
    cmap : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if quantity not in _LABELS:
        raise InvalidParameterError(
            f"`quantity` must be one of {sorted(_LABELS)}; got {quantity!r}."
        )
    plt = _plt()
    from matplotlib import colors
    from matplotlib.patches import Patch

    ax = _axes(ax)
    xe, ye = _edges(pd.sigma_w2), _edges(pd.sigma_b2)
    handles: list[Any] = []
    if quantity == "phase":
        codes = np.full(pd.shape, -1, dtype=int)
        for name, code in PHASE_CODES.items():
            codes[pd.phase == name] = code
        data = np.ma.MaskedArray(codes, mask=codes < 0)
        cm = colors.ListedColormap(["tab:blue", "k", "tab:red"])
        norm: Any = colors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cm.N)
        mesh = ax.pcolormesh(xe, ye, data, cmap=cm, norm=norm, shading="flat")
        handles += [
            Patch(color="tab:blue", label="ordered"),
            Patch(color="tab:red", label="chaotic"),
        ]
        undefined = np.asarray(data.mask)
        colorbar = False
    else:
        data = pd.masked(quantity)
        data = np.ma.masked_invalid(data)
        finite = data.compressed()
        norm = None
        if quantity in _LOG:
            pos = finite[finite > 0]
            if pos.size:
                norm = colors.LogNorm(vmin=float(pos.min()), vmax=float(pos.max()))
            data = np.ma.masked_where(np.ma.getdata(data) <= 0, data)
        cm = plt.get_cmap(cmap or "viridis").copy()
        mesh = ax.pcolormesh(xe, ye, data, cmap=cm, norm=norm, shading="flat")
        undefined = np.ma.getmaskarray(data)
        if colorbar:
            ax.figure.colorbar(mesh, ax=ax, label=_LABELS[quantity])
    mesh.set_label(quantity)
    if np.any(undefined):
        und = np.ma.MaskedArray(np.ones(pd.shape), mask=~undefined)
        grey = colors.ListedColormap([_UNDEFINED_COLOR])
        ax.pcolormesh(xe, ye, und, cmap=grey, shading="flat", label="undefined")
        handles.append(
            Patch(color=_UNDEFINED_COLOR, label=_undefined_label(pd, quantity))
        )
    if eoc:
        handles += _draw_eoc(pd, ax)
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    title = f"{pd.activation}: {_LABELS[quantity]}"
    if quantity.startswith("l_star"):
        title += f" (L = {pd.depth})"
    ax.set_title(title)
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize="small", framealpha=0.8)
    return ax


def _undefined_label(pd: PhaseDiagram, quantity: str) -> str:
    if quantity.startswith("l_star") and np.any(pd.defined & ~pd.l_star_defined):
        if np.any(~pd.defined):
            return "undefined (no finite q*, or c0 = c*)"
        return "undefined (c0 = c*: no l*)"
    return "no finite q* (undefined)"


def _draw_eoc(pd: PhaseDiagram, ax: Any) -> list[Any]:
    """The EOC curve, or the single EOC point of a scale-invariant activation."""
    if pd.scale_invariant and pd.eoc_point is not None:
        x, y = pd.eoc_point
        (pt,) = ax.plot(
            [x],
            [y],
            marker="*",
            ms=14,
            color="w",
            mec="k",
            ls="none",
            label=f"EOC: the single point ({x:g}, {y:g})",
            clip_on=False,
        )
        ax.annotate(
            "scale invariant: EOC is a point,\nno finite q* for "
            rf"$\sigma_w^2 \geq {x:g}$",
            xy=(x, y),
            xytext=(0.98, 0.5),
            textcoords="axes fraction",
            ha="right",
            va="center",
            fontsize="small",
            bbox={"boxstyle": "round", "fc": "w", "alpha": 0.8},
        )
        return [pt]
    ok = pd.eoc_exists
    if not np.any(ok):
        return []
    (line,) = ax.plot(
        pd.eoc_sigma_w2[ok],
        pd.sigma_b2[ok],
        color="w",
        lw=2.0,
        label=r"edge of chaos ($\chi_1 = 1$)",
    )
    line.set_path_effects(_outline())
    return [line]


def _outline() -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=3.5, foreground="k"), patheffects.Normal()]


def plot_phase_panels(pd: PhaseDiagram, fig: Any = None) -> Any:
    """Phase, ``chi_1``, ``xi_c`` and ``l*/L`` heat maps on one 2 x 2 figure.

    Returns the array of the four axes.
    """
    plt = _plt()
    if fig is None:
        fig = plt.figure(figsize=(11.0, 8.5))
    axes = fig.subplots(2, 2)
    for ax, q in zip(
        axes.ravel(), ("phase", "chi_1", "xi_c", "l_star_fraction"), strict=True
    ):
        plot_phase_diagram(pd, q, ax=ax)
    fig.tight_layout()
    return axes


def plot_information_curves(
    eq: Equilibrium, ax: Any = None, *, log: bool = True
) -> Any:
    r"""The information curves :math:`F(l)` and :math:`B(l)`, :math:`l^*` marked.

    ``F`` is drawn over ``l = 0..L`` and ``B`` over ``l = 1..L+1``
    (THEORY.md, section 5). A boundary result (``eq.boundary`` is
    ``"below"`` or ``"above"``) is marked as such, with a dashed line, not as
    an interior crossing.

    Parameters
    ----------
    eq : Equilibrium
    ax : matplotlib Axes, optional
    log : bool, default True
        Logarithmic vertical axis (``F`` decays over many decades). Zero
        values cannot be drawn on it and are left out.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    depth = eq.depth
    lf = np.arange(depth + 1)
    lb = np.arange(1, depth + 2)
    fwd, bwd = np.asarray(eq.forward), np.asarray(eq.backward)
    if log:
        fwd = np.ma.masked_where(fwd <= 0, fwd)
        bwd = np.ma.masked_where(bwd <= 0, bwd)
        ax.set_yscale("log")
    ax.plot(lf, fwd, label=r"$F(l) = |c^l - c^*|$", color="tab:blue")
    ax.plot(lb, bwd, label=r"$B(l) = \tilde c^l$", color="tab:orange")
    if eq.boundary is None:
        label = rf"$l^* = {eq.layer:.2f}$"
        style = "-"
    else:
        where = {"below": "at or below layer 1", "above": "at the last layer"}
        label = rf"boundary: $l^*$ {where[eq.boundary]} ({eq.boundary})"
        style = "--"
    ax.axvline(eq.layer, color="k", ls=style, lw=1.0, label=label)
    ax.set_xlabel("layer $l$")
    ax.set_ylabel("information")
    ax.set_title(f"information curves, L = {depth}")
    ax.legend(fontsize="small")
    return ax


def save_figure(fig: Any, path: str | os.PathLike[str], **kw: Any) -> None:
    """Save ``fig`` to ``path`` through a temporary file in the same folder.

    Raises
    ------
    FileNotFoundError
        When the folder of ``path`` does not exist (nothing is written).
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"cannot write the figure {target!r}: the folder {folder!r} does not "
            "exist. Create it first."
        )
    root, ext = os.path.splitext(os.path.basename(target))
    fmt = kw.pop("format", ext[1:] or None)
    tmp = os.path.join(folder, f".{root}.{os.getpid()}.tmp{ext}")
    try:
        fig.savefig(tmp, format=fmt, **kw)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_information_curves(eq: Equilibrium, path: str | os.PathLike[str]) -> None:
    """Draw :func:`plot_information_curves` on a new figure and save it."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    try:
        plot_information_curves(eq, ax=ax)
        fig.tight_layout()
        save_figure(fig, path, dpi=120)
    finally:
        plt.close(fig)


def plot_l_star_scaling(
    depths: Sequence[float] | np.ndarray,
    l_star: Sequence[float] | np.ndarray,
    ax: Any = None,
    *,
    boundary: Sequence[str | None] | None = None,
    law: Sequence[float] | np.ndarray | None = None,
    law_label: str = "asymptotic law",
    label: str = "exact recursion",
) -> Any:
    r""":math:`l^*` against :math:`L` on log-log axes, a law beside it.

    Parameters
    ----------
    depths, l_star : array_like
        Depths ``L`` and the exact :math:`l^*` at each.
    ax : matplotlib Axes, optional
    boundary : sequence of str or None, optional
        The ``boundary`` flag of each point; boundary results are drawn as
        open markers and named in the legend.
    law : array_like, optional
        Values of an asymptotic law at ``depths`` (THEORY.md, section 6),
        computed by the caller; without it the exact recursion is drawn
        alone.
    law_label, label : str
        Legend entries.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    x = np.asarray(depths, dtype=float)
    y = np.asarray(l_star, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise InvalidParameterError(
            f"`depths` and `l_star` must be 1-D of the same length; got {x.shape} "
            f"and {y.shape}."
        )
    flags = np.array(
        [b is not None and b != "interior" for b in boundary]
        if boundary is not None
        else np.zeros(x.size, dtype=bool),
        dtype=bool,
    )
    ax.plot(x[~flags], y[~flags], "o-", color="tab:blue", label=label)
    if np.any(flags):
        ax.plot(
            x[flags],
            y[flags],
            "o",
            mfc="none",
            color="tab:blue",
            label="boundary result",
        )
    if law is not None:
        lv = np.asarray(law, dtype=float)
        if lv.shape != x.shape:
            raise InvalidParameterError(
                f"`law` must have the shape of `depths` {x.shape}; got {lv.shape}."
            )
        ax.plot(x, lv, "--", color="k", label=law_label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("depth $L$ (hidden layers)")
    ax.set_ylabel(r"equilibrium layer $l^*$")
    ax.legend(fontsize="small")
    return ax


def _plot_map(
    x: Any, y: Any, fixed: float | None, ax: Any, name: str, var: str, lims: bool
) -> Any:
    ax = _axes(ax)
    xv, yv = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xv.shape != yv.shape or xv.ndim != 1:
        raise InvalidParameterError(
            f"`{var}` and the map values must be 1-D of the same length; got "
            f"{xv.shape} and {yv.shape}."
        )
    ax.plot(xv, yv, color="tab:blue", label=name)
    ax.plot(xv, xv, color="0.5", ls=":", label="identity")
    if fixed is not None:
        ax.plot(
            [fixed], [fixed], "o", color="tab:red", label=f"fixed point {fixed:.4g}"
        )
    ax.set_xlabel(f"${var}$")
    ax.set_ylabel(name)
    if lims:
        ax.set_xlim(xv.min(), xv.max())
    ax.legend(fontsize="small")
    return ax


def plot_c_map(c: Any, f_c: Any, c_star: float | None = None, ax: Any = None) -> Any:
    r"""The correlation map :math:`f(c)`, the diagonal and :math:`c^*`.

    ``f_c`` holds the map's values at ``c`` (for example
    ``MeanField.c_map(c)``); ``c_star`` the fixed point to mark.
    """
    return _plot_map(c, f_c, c_star, ax, "$f(c)$", "c", True)


def plot_q_map(q: Any, v_q: Any, q_star: float | None = None, ax: Any = None) -> Any:
    r"""The length map :math:`V(q)`, the diagonal and :math:`q^*`.

    ``v_q`` holds the map's values at ``q`` (for example
    ``MeanField.q_map(q)``); ``q_star`` the fixed point to mark.
    """
    return _plot_map(q, v_q, q_star, ax, "$V(q)$", "q", True)
