r"""Phase diagrams: mean-field quantities over a grid of initializations.

:func:`phase_diagram` computes, for every point of a grid of
``(sigma_b2, sigma_w2)``, what :class:`~sigprop.MeanField` computes for one
point: the length fixed point ``q_star``, the correlation fixed point
``c_star``, the slopes ``chi_1``, ``chi_c``, ``chi_q``, the depth scales
``xi_q`` and ``xi_c``, the phase, the trainable-depth estimate ``6 xi_c``
(Schoenholz et al. 2017) and the equilibrium layer ``l_star`` of a network of
``depth`` hidden layers (THEORY.md, section 5), together with the edge of
chaos ``eoc_sigma_w2`` solved for each ``sigma_b2``.

Every computation runs on whole arrays of grid points at once, in blocks so
that memory stays bounded; no :class:`~sigprop.MeanField` object is built.
Arrays are indexed ``[i_b, i_w]``: rows follow ``sigma_b2``, columns follow
``sigma_w2``.

Where a quantity does not exist it is flagged, never left as an unexplained
NaN: ``q_status`` says whether ``q*`` is finite (``"finite"``), every ``q``
(``"every"``, a scale-invariant activation at its critical point) or absent
(``"none"``, the length map grows without bound); ``phase`` is
``"undefined"`` where there is no ``q*``; ``boundary`` is ``"undefined"``
where ``l*`` is not defined, and :attr:`PhaseDiagram.notes` says why. The
float arrays hold NaN exactly where these flags say so (see
:meth:`PhaseDiagram.masked`).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ._errors import InvalidParameterError, MomentOverflowError
from ._validate import check_correlation, check_depth
from .activations import Activation, activation
from .gaussian import GaussianExpectations, expectations_for

__all__ = ["PhaseDiagram", "phase_diagram", "load_phase_diagram"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

_EDGE_RTOL = 1e-9  # the edge-of-chaos tolerance of MeanField.phase
_MIN_SEPARATION = 1e-10  # the smallest |c0 - c*| of sigprop.equilibrium
_Q_MAX = 1e12  # a length map still growing here has no finite fixed point
_Q_TINY = 1e-30  # below this a decreasing length map is taken to reach q* = 0
_TABLE_PER_DECADE = 256  # nodes of the E[phi^2] table used for first guesses
_TABLE_QMIN = 1e-10
_MEHLER_TAIL = 1e-13  # the Mehler criterion of GaussianExpectations.diffsq_stepper
_BLOCK_ELEMENTS = 2_000_000  # floats per (points x layers) array in one block
_SW_EOC_MAX = 1e6  # the search range of sigprop.edge_of_chaos
_FORMAT_VERSION = 1

_ARRAYS = (
    "q_star",
    "q_status",
    "c_star",
    "chi_1",
    "chi_c",
    "chi_q",
    "xi_q",
    "xi_c",
    "trainable_depth",
    "phase",
    "l_star",
    "l_star_fraction",
    "boundary",
)


# -- the result ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    r"""Mean-field quantities over a grid of ``(sigma_b2, sigma_w2)``.

    Every 2-D array has shape ``(len(sigma_b2), len(sigma_w2))`` and is
    indexed ``[i_b, i_w]``.

    Attributes
    ----------
    activation : str
        Canonical name of the activation.
    sigma_w2, sigma_b2 : ndarray
        The grids (1-D, increasing, >= 0); ``sigma_w2`` is the horizontal axis.
    depth : int
        Number of hidden layers ``L`` used for ``l_star``.
    c0 : float
        Input correlation used for ``l_star``.
    q_star : ndarray
        Stable fixed point of the length map (NaN where ``q_status`` is not
        ``"finite"``).
    q_status : ndarray of str
        ``"finite"``, ``"every"`` (every ``q`` is a fixed point: the
        correlation quantities are still defined) or ``"none"`` (no finite
        fixed point: nothing else is defined there).
    c_star, chi_1, chi_c, chi_q, xi_q, xi_c : ndarray
        As in :class:`~sigprop.MeanField` (``xi_c`` is ``inf`` on the edge).
    trainable_depth : ndarray
        ``6 xi_c``, the depth to which Schoenholz et al. (2017) find networks
        trainable.
    phase : ndarray of str
        ``"ordered"``, ``"chaotic"``, ``"edge"`` or ``"undefined"``.
    l_star, l_star_fraction : ndarray
        Equilibrium layer :math:`l^*` and :math:`l^*/L`.
    boundary : ndarray of str
        ``"interior"``, ``"below"``, ``"above"`` (the boundary results of
        :class:`~sigprop.Equilibrium`) or ``"undefined"``.
    eoc_sigma_w2 : ndarray, shape (len(sigma_b2),)
        Edge-of-chaos ``sigma_w2`` for each ``sigma_b2`` (NaN where
        ``eoc_exists`` is False).
    eoc_exists : ndarray of bool, shape (len(sigma_b2),)
    scale_invariant : bool
        True for positively homogeneous activations (ReLU, leaky ReLU,
        linear), whose edge of chaos is the single point
        ``eoc_point = (sigma_w2, 0)``.
    eoc_point : tuple of float or None
        ``(sigma_w2, sigma_b2)`` of that point for a scale-invariant
        activation.
    notes : tuple of str
        Plain-language explanations of every flagged region.
    """

    activation: str
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    depth: int
    c0: float
    q_star: np.ndarray
    q_status: np.ndarray
    c_star: np.ndarray
    chi_1: np.ndarray
    chi_c: np.ndarray
    chi_q: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    trainable_depth: np.ndarray
    phase: np.ndarray
    l_star: np.ndarray
    l_star_fraction: np.ndarray
    boundary: np.ndarray
    eoc_sigma_w2: np.ndarray
    eoc_exists: np.ndarray
    scale_invariant: bool = False
    eoc_point: tuple[float, float] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(sigma_b2), len(sigma_w2))``."""
        return (self.sigma_b2.size, self.sigma_w2.size)

    @property
    def defined(self) -> np.ndarray:
        """Mask of points where the mean-field quantities exist."""
        return np.asarray(self.q_status != "none")

    @property
    def l_star_defined(self) -> np.ndarray:
        """Mask of points where ``l_star`` is defined."""
        return np.asarray(self.boundary != "undefined")

    def masked(self, name: str) -> np.ma.MaskedArray:
        """A float attribute as a masked array, masked where it is undefined.

        Parameters
        ----------
        name : str
            One of ``q_star``, ``c_star``, ``chi_1``, ``chi_c``, ``chi_q``,
            ``xi_q``, ``xi_c``, ``trainable_depth``, ``l_star``,
            ``l_star_fraction``.
        """
        if name not in _ARRAYS or name in ("q_status", "phase", "boundary"):
            raise InvalidParameterError(
                f"`name` must be a float attribute of PhaseDiagram; got {name!r}."
            )
        data = np.asarray(getattr(self, name))
        if name == "q_star":
            mask = self.q_status != "finite"
        elif name.startswith("l_star"):
            mask = ~self.l_star_defined
        else:
            mask = ~self.defined
        return np.ma.MaskedArray(data, mask=mask)

    # -- tidy table --------------------------------------------------------------

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per grid point (a tidy table), ``sigma_b2`` varying slowest.

        Undefined values are ``None``, not NaN.
        """
        nb, nw = self.shape
        cols: dict[str, np.ndarray] = {
            "sigma_b2": np.repeat(self.sigma_b2, nw),
            "sigma_w2": np.tile(self.sigma_w2, nb),
        }
        for name in _ARRAYS:
            cols[name] = np.asarray(getattr(self, name)).ravel()
        masks = {
            name: np.ma.getmaskarray(self.masked(name)).ravel()
            for name in _ARRAYS
            if name not in ("q_status", "phase", "boundary")
        }
        rows: list[dict[str, Any]] = []
        for i in range(nb * nw):
            row: dict[str, Any] = {}
            for name, col in cols.items():
                if name in masks and masks[name][i]:
                    row[name] = None
                else:
                    value = col[i]
                    row[name] = value.item() if hasattr(value, "item") else value
            rows.append(row)
        return rows

    def to_dataframe(self) -> Any:
        """The tidy table as a :class:`pandas.DataFrame` (needs pandas).

        Undefined values are missing values (``NaN`` in float columns), with
        the flag columns ``q_status``, ``phase`` and ``boundary`` saying why.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is optional
            raise ImportError(
                "`to_dataframe` needs pandas (`pip install pandas`); "
                "`to_records` gives the same table as a list of dicts."
            ) from exc
        return pd.DataFrame.from_records(self.to_records())

    # -- files -------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a NumPy ``.npz`` file (arrays exactly, metadata as JSON).

        The file is written to a temporary name in the same folder and moved
        into place, so a failed save leaves nothing half-written.

        Raises
        ------
        FileNotFoundError
            When the folder of ``path`` does not exist.
        """
        target = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"cannot save the phase diagram to {target!r}: the folder "
                f"{folder!r} does not exist. Create it first."
            )
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAYS}
        arrays["sigma_w2"] = self.sigma_w2
        arrays["sigma_b2"] = self.sigma_b2
        arrays["eoc_sigma_w2"] = self.eoc_sigma_w2
        arrays["eoc_exists"] = self.eoc_exists
        meta = {
            "format": "sigprop.PhaseDiagram",
            "format_version": _FORMAT_VERSION,
            "activation": self.activation,
            "depth": self.depth,
            "c0": self.c0,
            "scale_invariant": self.scale_invariant,
            "eoc_point": list(self.eoc_point) if self.eoc_point else None,
            "notes": list(self.notes),
        }
        arrays["metadata"] = np.array(json.dumps(meta))
        tmp = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PhaseDiagram:
        """Load a file written by :meth:`save` (no pickles are read)."""
        with np.load(os.fspath(path), allow_pickle=False) as data:
            if "metadata" not in data.files:
                raise InvalidParameterError(
                    f"{os.fspath(path)!r} is not a sigprop phase diagram (it has no "
                    "metadata)."
                )
            meta = json.loads(str(data["metadata"]))
            if meta.get("format") != "sigprop.PhaseDiagram":
                raise InvalidParameterError(
                    f"{os.fspath(path)!r} is not a sigprop phase diagram."
                )
            arrays = {k: data[k] for k in data.files if k != "metadata"}
        point = meta["eoc_point"]
        return cls(
            activation=meta["activation"],
            depth=int(meta["depth"]),
            c0=float(meta["c0"]),
            scale_invariant=bool(meta["scale_invariant"]),
            eoc_point=(float(point[0]), float(point[1])) if point else None,
            notes=tuple(meta["notes"]),
            **arrays,
        )

    def equals(self, other: PhaseDiagram) -> bool:
        """True when every array and every piece of metadata is identical."""
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray):
                if a.dtype != b.dtype or a.shape != b.shape:
                    return False
                if not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                    return False
            elif a != b:
                return False
        return True


def load_phase_diagram(path: str | os.PathLike[str]) -> PhaseDiagram:
    """Load a :class:`PhaseDiagram` saved by :meth:`PhaseDiagram.save`."""
    return PhaseDiagram.load(path)


# -- input checks -------------------------------------------------------------------


def _check_grid(name: str, value: Any) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise TypeError(f"`{name}` must be a 1-D array of numbers; got {value!r}.")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`{name}` must be a 1-D array of numbers; got {value!r}."
        ) from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidParameterError(
            f"`{name}` must be a non-empty 1-D array of variances; got an array "
            f"of shape {arr.shape}. Use np.linspace(lo, hi, n)."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidParameterError(
            f"`{name}` must hold finite numbers >= 0 (variances, squares of "
            f"standard deviations); got min {np.nanmin(arr)!r}."
        )
    if arr.size > 1 and not np.all(np.diff(arr) > 0):
        raise InvalidParameterError(
            f"`{name}` must be strictly increasing (it is an axis of the phase "
            "diagram); sort it and remove repeated values."
        )
    arr.setflags(write=False)
    return arr


# -- the length fixed point, vectorized -------------------------------------------


class _QSolver:
    """Stable fixed points ``q*`` of many length maps ``V(q) = sw E(q) + sb``.

    Follows ``MeanField._solve_q_star`` point by point, on arrays: the stable
    fixed point is the first root of ``G(q) = V(q) - q`` met from
    ``q0 = sw + sb`` in the direction of the sign of ``G(q0)``. A table of
    ``E(q) = E[phi(sqrt(q) z)^2]`` and its derivative (computed once by
    :class:`~sigprop.gaussian.GaussianExpectations`) locates that root between
    two table nodes and gives a first guess by cubic Hermite interpolation
    (relative error near 1e-11 for 256 nodes a decade); one Newton step with
    the exact ``E`` at the guess then reaches rounding level. Points the table
    cannot place (a root outside it, a guess that moves too far) go through
    the exact, slower path: bracketing by doubling or halving, then a
    safeguarded Newton iteration.
    """

    def __init__(self, g: GaussianExpectations, q_hi: float):
        self.g = g
        decades = math.log10(max(q_hi, 10.0) / _TABLE_QMIN)
        n = int(math.ceil(decades * _TABLE_PER_DECADE)) + 1
        self.t = np.geomspace(_TABLE_QMIN, max(q_hi, 10.0), n)
        e = np.empty(n)
        de = np.empty(n)
        # one decade at a time: the quadrature step adapts to the largest q;
        # where a moment is not computable the table stops (the exact path,
        # which raises the same error only if MeanField would, takes over)
        end = n
        for lo in range(0, n, _TABLE_PER_DECADE):
            sl = slice(lo, lo + _TABLE_PER_DECADE)
            try:
                e[sl] = g.e_phi2(self.t[sl])
                de[sl] = g.de_phi2_dq(self.t[sl])
            except MomentOverflowError:
                end = lo
                break
        self.t, self.e, self.de = self.t[:end], e[:end], de[:end]

    def _interp(self, j: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cubic Hermite ``E`` and ``E'`` at ``q`` in ``[t_j, t_{j+1}]``."""
        t0, t1 = self.t[j], self.t[j + 1]
        h = t1 - t0
        s = (q - t0) / h
        e0, e1 = self.e[j], self.e[j + 1]
        d0, d1 = self.de[j] * h, self.de[j + 1] * h
        h00 = (1 + 2 * s) * (1 - s) ** 2
        h10 = s * (1 - s) ** 2
        h01 = s * s * (3 - 2 * s)
        h11 = s * s * (s - 1)
        val = h00 * e0 + h10 * d0 + h01 * e1 + h11 * d1
        dh00 = 6 * s * (s - 1)
        dh10 = (1 - s) * (1 - 3 * s)
        dh01 = -dh00
        dh11 = s * (3 * s - 2)
        der = (dh00 * e0 + dh10 * d0 + dh01 * e1 + dh11 * d1) / h
        return val, der

    def solve(self, sw: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(q_star, exists)`` for flat arrays ``sw``, ``sb``."""
        n = sw.size
        q = np.full(n, np.nan)
        exists = np.zeros(n, dtype=bool)
        todo = np.ones(n, dtype=bool)
        q0 = np.maximum(sw + sb, 1e-12)
        if self.t.size < 2:
            inside = np.zeros(n, dtype=bool)
        else:
            inside = (q0 >= self.t[0]) & (q0 <= self.t[-1])
        idx = np.nonzero(inside)[0]
        step = max(1, _BLOCK_ELEMENTS // self.t.size)
        for lo in range(0, idx.size, step):
            sel = idx[lo : lo + step]
            qs, ok = self._from_table(sw[sel], sb[sel], q0[sel])
            q[sel[ok]] = qs[ok]
            exists[sel[ok]] = True
            todo[sel[ok]] = False
        rest = np.nonzero(todo)[0]
        if rest.size:
            qs, ok = self._exact(sw[rest], sb[rest])
            q[rest] = qs
            exists[rest] = ok
        return q, exists

    def _from_table(
        self, sw: np.ndarray, sb: np.ndarray, q0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        t = self.t
        gt = sw[:, None] * self.e[None, :] + sb[:, None] - t[None, :]
        j0 = np.clip(np.searchsorted(t, q0, side="right") - 1, 0, t.size - 2)
        e0, _ = self._interp(j0, q0)
        g0 = sw * e0 + sb - q0
        cols = np.arange(t.size)[None, :]
        # going up: the first node above q0 with G <= 0
        up = (gt <= 0) & (cols > j0[:, None])
        has_up = up.any(axis=1)
        j_up = np.argmax(up, axis=1) - 1
        # going down: the last node at or below q0 with G >= 0
        down = (gt >= 0) & (cols <= j0[:, None])
        has_down = down.any(axis=1)
        j_dn = t.size - 1 - np.argmax(down[:, ::-1], axis=1)
        going_up = g0 > 0
        j = np.where(going_up, j_up, j_dn)
        ok = np.where(going_up, has_up, has_down) & (j >= 0) & (j <= t.size - 2)
        j = np.clip(j, 0, t.size - 2)
        ga, gb = gt[np.arange(sw.size), j], gt[np.arange(sw.size), j + 1]
        ok &= (ga >= 0) & (gb <= 0) & (ga > gb)
        # a guess by Newton's method on the interpolant, inside [t_j, t_j+1]
        a, b = t[j], t[j + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(ok, a + (b - a) * ga / (ga - gb), a)
        for _ in range(4):
            ev, dv = self._interp(j, x)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.clip(x - (sw * ev + sb - x) / (sw * dv - 1), a, b)
        # one exact Newton step (the interpolated slope is plenty for it)
        _, dv = self._interp(j, x)
        ex = np.where(ok, self.g.e_phi2(np.where(ok, x, 1.0)), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x1 = x - (sw * ex + sb - x) / (sw * dv - 1)
        ok &= np.isfinite(x1) & (np.abs(x1 - x) <= 1e-7 * x)
        ok &= (x1 >= a * (1 - 1e-12)) & (x1 <= b * (1 + 1e-12))
        return x1, ok

    def _gfun(self, sw: np.ndarray, sb: np.ndarray, q: np.ndarray) -> np.ndarray:
        return sw * self.g.e_phi2(q) + sb - q

    def _exact(self, sw: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The per-point procedure of MeanField, on arrays, with exact calls."""
        n = sw.size
        q0 = np.maximum(sw + sb, 1e-12)
        g0 = self._gfun(sw, sb, q0)
        lo, hi = q0.copy(), q0.copy()
        glo, ghi = g0.copy(), g0.copy()
        found = g0 == 0.0
        exists = np.ones(n, dtype=bool)
        zero = np.zeros(n, dtype=bool)  # q* = 0
        up = (g0 > 0) & ~found
        act = up.copy()
        while np.any(act):
            i = np.nonzero(act)[0]
            lo[i], glo[i] = hi[i], ghi[i]
            hi[i] = 2.0 * hi[i]
            big = hi[i] > _Q_MAX
            exists[i[big]] = False
            i = i[~big]
            ghi[i] = self._gfun(sw[i], sb[i], hi[i])
            act[:] = False
            act[i[ghi[i] > 0]] = True
        down = (g0 < 0) & ~found
        act = down.copy()
        while np.any(act):
            i = np.nonzero(act)[0]
            hi[i], ghi[i] = lo[i], glo[i]
            lo[i] = 0.5 * lo[i]
            tiny = lo[i] < _Q_TINY
            for k in i[tiny]:
                lo[k] = 0.0
                glo[k] = float(
                    self._gfun(sw[k : k + 1], sb[k : k + 1], lo[k : k + 1])[0]
                )
                if glo[k] == 0.0:
                    zero[k] = self._zero_is_stable(sw[k], sb[k], hi[k])
            i = i[~tiny]
            glo[i] = self._gfun(sw[i], sb[i], lo[i])
            act[:] = False
            act[i[glo[i] < 0]] = True
        q = np.where(found, q0, np.nan)
        solve = exists & ~found & ~zero
        q[zero] = 0.0
        if np.any(solve):
            i = np.nonzero(solve)[0]
            q[i] = self._newton(sw[i], sb[i], lo[i], hi[i], glo[i], ghi[i])
        return q, exists

    def _zero_is_stable(self, sw: float, sb: float, hi: float) -> bool:
        """Whether ``q* = 0`` (no positive root in ``(0, hi]``), as MeanField."""
        grid = np.geomspace(1e-300, hi, 200)[::-1]
        vals = self._gfun(np.full(200, sw), np.full(200, sb), grid)
        return not bool(np.any(vals >= 0))

    def _newton(
        self,
        sw: np.ndarray,
        sb: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        glo: np.ndarray,
        ghi: np.ndarray,
    ) -> np.ndarray:
        """Newton's method kept inside the bracket by bisection."""
        # G changes sign on [lo, hi]; orient so that G(a) > 0 > G(b)
        x = np.where(glo != ghi, lo + (hi - lo) * glo / (glo - ghi), 0.5 * (lo + hi))
        a, b = lo.copy(), hi.copy()
        done = np.zeros(x.size, dtype=bool)
        for _ in range(100):
            i = np.nonzero(~done)[0]
            if i.size == 0:
                break
            gx = self._gfun(sw[i], sb[i], x[i])
            dg = sw[i] * self.g.de_phi2_dq(x[i]) - 1.0
            pos = gx > 0
            a[i[pos]] = x[i[pos]]
            b[i[~pos]] = x[i[~pos]]
            with np.errstate(divide="ignore", invalid="ignore"):
                xn = x[i] - gx / dg
            bad = (
                ~np.isfinite(xn)
                | (xn <= np.minimum(a[i], b[i]))
                | (xn >= np.maximum(a[i], b[i]))
            )
            xn[bad] = 0.5 * (a[i][bad] + b[i][bad])
            conv = (np.abs(xn - x[i]) <= 4e-16 * np.abs(xn)) | (gx == 0.0)
            conv |= np.abs(a[i] - b[i]) <= 4e-16 * np.abs(xn)
            x[i] = np.where(gx == 0.0, x[i], xn)
            done[i[conv]] = True
        return x


# -- the correlation maps of a block of points -------------------------------------


class _Maps:
    """The correlation map and its slope for a block of grid points.

    ``one_minus_f(eps)`` is :math:`1 - f(1 - \\epsilon)` and ``slope(c)`` is
    :math:`f'(c)`, with one row per point (``eps``, ``c`` of shape (n,) or
    (n, m)).
    """

    def __init__(self, g: GaussianExpectations, q: np.ndarray, sw: np.ndarray):
        self.g, self.q, self.sw = g, q, sw
        self.n = q.size

    def one_minus_f(self, eps: np.ndarray) -> np.ndarray:
        q = _col(self.q, eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _col(self.sw, eps) * self.g.half_diffsq(q, eps) / q
        return np.where(q == 0.0, 0.0, out)

    def slope(self, c: np.ndarray) -> np.ndarray:
        q = _col(self.q, c)
        return _col(self.sw, c) * self.g.e_dd(q, q, q * c)

    def chi_1(self) -> np.ndarray:
        return self.sw * self.g.e_dphi2(self.q)

    def chi_q(self) -> np.ndarray:
        return self.sw * self.g.de_phi2_dq(self.q)


class _MehlerMaps(_Maps):
    r"""The maps of a smooth activation from its Hermite coefficients.

    With :math:`b_k(q)` the normalized Hermite coefficients of
    :math:`\phi(\sqrt q z)` and :math:`w_k = b_k^2`,

    .. math::

        1 - f(1 - \epsilon) = \frac{\sigma_w^2}{q}\,\epsilon
            \sum_{j \ge 0} c^j T_j, \qquad T_j = \sum_{k > j} w_k,

    a polynomial in :math:`c` with positive coefficients (no cancellation as
    :math:`\epsilon \to 0`), and, by Stein's lemma
    (:math:`\sqrt q\, d_k = \sqrt{k+1}\, b_{k+1}` for the coefficients
    :math:`d_k` of :math:`\phi'`),

    .. math::

        f'(c) = \frac{\sigma_w^2}{q} \sum_k (k+1) w_{k+1} c^k, \qquad
        V'(q) = \frac{\sigma_w^2}{q} \sum_k \left[(k+1) w_{k+1}
            + \sqrt{k(k+1)}\, b_{k-1} b_{k+1}\right].

    Both are evaluated by Horner's rule, one array operation per degree for a
    whole block of points. The coefficients are those of
    ``GaussianExpectations`` (the same quadrature MeanField uses), computed
    once per block instead of once per layer.
    """

    def __init__(self, g: GaussianExpectations, q: np.ndarray, sw: np.ndarray):
        super().__init__(g, q, sw)
        coef, tail, norm2, _ = g._coefficients(q, derivative=False)
        self.ok = tail <= _MEHLER_TAIL * np.maximum(norm2, 1e-300)
        w = coef**2
        k = np.arange(w.shape[1], dtype=float)
        # T_j = sum_{k>j} w_k for j = 0..K-2, as rows (degree, point)
        tails = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
        self.tcoef = np.ascontiguousarray(tails[:, 1:].T)
        self.dcoef = np.ascontiguousarray((k[1:] * w[:, 1:]).T)
        cross = np.sqrt(k[1:-1] * k[2:]) * coef[:, :-2] * coef[:, 2:]
        self.vsum = self.dcoef.sum(axis=0) + cross.sum(axis=1)
        self.ratio = sw / q

    @staticmethod
    def _horner(coef: np.ndarray, c: np.ndarray) -> np.ndarray:
        if coef.shape[0] == 0:
            return np.zeros_like(c)
        shape = (-1,) + (1,) * (c.ndim - 1)
        acc = np.broadcast_to(coef[-1].reshape(shape), c.shape).copy()
        for row in coef[-2::-1]:
            acc *= c
            acc += row.reshape(shape)
        return acc

    def one_minus_f(self, eps: np.ndarray) -> np.ndarray:
        eps = np.clip(eps, 0.0, 2.0)
        return _col(self.ratio, eps) * eps * self._horner(self.tcoef, 1.0 - eps)

    def slope(self, c: np.ndarray) -> np.ndarray:
        return _col(self.ratio, c) * self._horner(self.dcoef, c)

    def chi_1(self) -> np.ndarray:
        return self.ratio * self.dcoef.sum(axis=0)

    def chi_q(self) -> np.ndarray:
        return self.ratio * self.vsum


def _col(v: np.ndarray, like: np.ndarray) -> np.ndarray:
    return v if like.ndim == 1 else v[:, None]


def _depth_scale(chi: np.ndarray) -> np.ndarray:
    out = np.full(chi.shape, np.inf)
    with np.errstate(divide="ignore"):
        pos = (chi > 0) & (chi != 1.0)
        out[pos] = -1.0 / np.log(chi[pos])
    out[chi <= 0] = 0.0
    return out


# -- one block of grid points --------------------------------------------------------


@dataclass
class _Block:
    c_star: np.ndarray
    chi_1: np.ndarray
    chi_c: np.ndarray
    chi_q: np.ndarray
    phase: np.ndarray
    l_star: np.ndarray
    boundary: np.ndarray
    failed: np.ndarray


def _solve_c_star(maps: _Maps, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable fixed point of ``f`` for the points ``sel`` (chaotic ones).

    On [0, 1], ``f`` is a power series in ``c`` with non-negative
    coefficients (Mehler's formula) and ``f(0) >= 0``: ``h = f - c`` is convex,
    so Newton's iterates from ``c = 0`` rise monotonically to the smallest
    fixed point above 0, the one that MeanField's iteration ``c <- f(c)`` from
    0 reaches.
    """
    sub = _subset(maps, sel)
    n = sel.size
    c = np.zeros(n)
    active = np.arange(n)  # indices into sel still iterating
    cur = sub  # maps of the points `active` (re-subset only when it halves)
    cur_idx = np.arange(n)
    for _ in range(200):
        if active.size == 0:
            break
        if active.size <= cur_idx.size // 2:
            pos = np.searchsorted(cur_idx, active)
            cur, cur_idx = _subset(cur, pos), active
        ci = c[cur_idx]
        h = 1.0 - cur.one_minus_f(1.0 - ci) - ci
        d = cur.slope(ci) - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cn = np.clip(ci - h / d, -1.0, 1.0 - 1e-16)
        cn = np.where(np.isfinite(cn) & (h != 0.0), cn, ci)
        conv = np.abs(cn - ci) <= 2e-16
        c[cur_idx] = cn
        still = np.isin(cur_idx, active) & ~conv
        active = cur_idx[still]
    h = 1.0 - sub.one_minus_f(1.0 - c) - c
    ok = np.isfinite(c) & (np.abs(h) <= 1e-12)
    return c, ok


def _subset(maps: _Maps, i: np.ndarray) -> _Maps:
    if isinstance(maps, _MehlerMaps):
        sub = object.__new__(_MehlerMaps)
        sub.g, sub.q, sub.sw, sub.n = maps.g, maps.q[i], maps.sw[i], i.size
        sub.ok = maps.ok[i]
        sub.tcoef = maps.tcoef[:, i]
        sub.dcoef = maps.dcoef[:, i]
        sub.vsum = maps.vsum[i]
        sub.ratio = maps.ratio[i]
        return sub
    return _Maps(maps.g, maps.q[i], maps.sw[i])


def _block(maps: _Maps, depth: int, c0: float) -> _Block:
    """All the per-point quantities of one block of points."""
    n = maps.n
    chi_1 = maps.chi_1()
    chi_q = maps.chi_q()
    phase = np.where(
        np.abs(chi_1 - 1.0) <= _EDGE_RTOL,
        "edge",
        np.where(chi_1 < 1.0, "ordered", "chaotic"),
    ).astype("<U9")
    failed = np.zeros(n, dtype=bool)

    c_star = np.ones(n)
    chaotic = np.nonzero(phase == "chaotic")[0]
    if chaotic.size:
        cs, ok = _solve_c_star(maps, chaotic)
        c_star[chaotic] = np.where(ok, cs, np.nan)
        failed[chaotic[~ok]] = True
    chi_c = chi_1.copy()
    if chaotic.size:
        sub = _subset(maps, chaotic)
        cs = np.nan_to_num(c_star[chaotic], nan=0.0)
        chi_c[chaotic] = np.where(failed[chaotic], np.nan, sub.slope(cs))

    # forward recursion on eps = 1 - c, as MeanField.forward_eps
    eps = np.empty((n, depth + 1))
    eps[:, 0] = 1.0 - c0
    for layer in range(1, depth + 1):
        eps[:, layer] = maps.one_minus_f(eps[:, layer - 1])
    c = 1.0 - eps
    ordered = c_star == 1.0
    fwd = np.where(ordered[:, None], np.abs(eps), np.abs(c - c_star[:, None]))

    # backward recursion: ct^l = prod_{k=l}^{L} f'(c^k) / chi_1
    slopes = maps.slope(c[:, 1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.abs(slopes / chi_1[:, None]))
    signs = np.sign(slopes)
    cum = np.concatenate(
        [np.cumsum(logs[:, ::-1], axis=1)[:, ::-1], np.zeros((n, 1))], axis=1
    )
    sgn = np.concatenate(
        [np.cumprod(signs[:, ::-1], axis=1)[:, ::-1], np.ones((n, 1))], axis=1
    )
    with np.errstate(over="ignore", invalid="ignore"):
        bwd = sgn * np.exp(cum)

    l_star, boundary = _crossings(fwd, bwd, depth)
    too_close = np.abs(c0 - c_star) < _MIN_SEPARATION
    undefined = too_close | failed | (boundary == "undefined")
    l_star = np.where(undefined, np.nan, l_star)
    boundary = np.where(undefined, "undefined", boundary)
    return _Block(c_star, chi_1, chi_c, chi_q, phase, l_star, boundary, failed)


def _crossings(
    fwd: np.ndarray, bwd: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """``crossing_layer`` of sigprop.equilibrium, one row per point."""
    n = fwd.shape[0]
    finite = np.all(np.isfinite(fwd), axis=1) & np.all(np.isfinite(bwd), axis=1)
    d = fwd[:, 1:] - bwd[:, :-1]  # F(l) - B(l) for l = 1..L
    a, b = d[:, :-1], d[:, 1:]
    down = (a > 0) & (b <= 0)
    has = down.any(axis=1)
    interior = np.zeros(n)
    if depth > 1:
        i = np.argmax(down, axis=1)
        rows = np.arange(n)
        ai, bi = a[rows, i], b[rows, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            interior = i + 1 + ai / (ai - bi)
    below = d[:, 0] <= 0
    layer = np.where(below, 1.0, np.where(has, interior, float(depth)))
    boundary = np.where(below, "below", np.where(has, "interior", "above")).astype(
        "<U9"
    )
    boundary[~finite] = "undefined"
    return layer, boundary


# -- the edge of chaos over the sigma_b2 grid ------------------------------------------


def _eoc_curve(
    g: GaussianExpectations, solver: _QSolver, sb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``sigma_w2`` with ``chi_1 = 1`` for each ``sigma_b2``, as edge_of_chaos.

    Bracketed by doubling from ``[1e-3, 1]`` and polished by the Illinois
    variant of regula falsi, all ``sigma_b2`` at once.
    """
    nb = sb.size

    def chi1_minus_1(sw: np.ndarray, sbv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q, ok = solver.solve(sw, sbv)
        out = np.full(sw.size, np.nan)
        out[ok] = sw[ok] * g.e_dphi2(q[ok]) - 1.0
        return out, ok

    lo = np.full(nb, 1e-3)
    hi = np.ones(nb)
    flo, ok_lo = chi1_minus_1(lo, sb)
    exists = ok_lo & (flo <= 0)
    fhi, ok_hi = chi1_minus_1(hi, sb)
    exists &= ok_hi
    act = exists & (fhi < 0)
    while np.any(act):
        i = np.nonzero(act)[0]
        lo[i], flo[i] = hi[i], fhi[i]
        hi[i] = 2 * hi[i]
        over = hi[i] > _SW_EOC_MAX
        exists[i[over]] = False
        i = i[~over]
        fhi[i], ok = chi1_minus_1(hi[i], sb[i])
        exists[i[~ok]] = False
        act[:] = False
        act[i[ok & (fhi[i] < 0)]] = True
    x = np.where(fhi == 0.0, hi, np.nan)
    todo = exists & (fhi != 0.0)
    side = np.zeros(nb, dtype=int)
    for _ in range(200):
        i = np.nonzero(todo)[0]
        if i.size == 0:
            break
        xi = (lo[i] * fhi[i] - hi[i] * flo[i]) / (fhi[i] - flo[i])
        xi = np.where((xi > lo[i]) & (xi < hi[i]), xi, 0.5 * (lo[i] + hi[i]))
        fx, ok = chi1_minus_1(xi, sb[i])
        exists[i[~ok]] = False
        left = fx < 0
        # Illinois: halve the function value kept twice on the same side
        j = i[left]
        lo[j], flo[j] = xi[left], fx[left]
        keep = j[side[j] == -1]
        fhi[keep] *= 0.5
        side[j] = -1
        j = i[~left]
        hi[j], fhi[j] = xi[~left], fx[~left]
        keep = j[side[j] == 1]
        flo[keep] *= 0.5
        side[j] = 1
        x[i] = xi
        conv = (hi[i] - lo[i] <= 1e-15 * xi) | (fx == 0.0) | ~ok
        todo[i[conv]] = False
    # as in edge_of_chaos: a bracket can close onto a jump of chi_1 (where the
    # stable q* changes branch) rather than onto a root; that is no EOC
    i = np.nonzero(exists)[0]
    if i.size:
        fx, ok = chi1_minus_1(x[i], sb[i])
        exists[i[~ok | (np.abs(fx) > 1e-9)]] = False
    x = np.where(exists, x, np.nan)
    return x, exists


# -- the public function --------------------------------------------------------------


def phase_diagram(
    activation_: str | Activation | Any,
    sigma_w2: Any,
    sigma_b2: Any,
    depth: int,
    c0: float = 0.0,
    *,
    progress: bool | Progress = False,
    block_size: int | None = None,
) -> PhaseDiagram:
    r"""Mean-field quantities and the equilibrium layer over a grid.

    Parameters
    ----------
    activation_ : str, Activation or callable
        Anything :func:`sigprop.activation` accepts.
    sigma_w2, sigma_b2 : array_like
        1-D, strictly increasing grids of variances (>= 0). Results are
        indexed ``[i_b, i_w]``.
    depth : int
        Number of hidden layers ``L`` of the network whose equilibrium layer
        is predicted.
    c0 : float, default 0.0
        Input correlation :math:`c^0` in [-1, 1].
    progress : bool or callable, default False
        ``True`` logs one INFO message per block on the ``sigprop.phase``
        logger; a callable is called as ``progress(done, total)`` with the
        number of grid points done so far.
    block_size : int, optional
        Grid points computed at once (default 2048, fewer for deep networks
        so that each ``(points x layers)`` array stays under 2 million
        floats, 16 MB): memory stays bounded for any grid.

    Returns
    -------
    PhaseDiagram

    Raises
    ------
    InvalidParameterError
        For grids that are not 1-D increasing arrays of numbers >= 0, a depth
        that is not a positive integer, or ``c0`` outside [-1, 1].
    UnknownActivationError
        For an unknown activation name.

    Notes
    -----
    The quantities are those of :class:`~sigprop.MeanField` and
    :func:`~sigprop.equilibrium` point by point, computed on arrays:

    * ``q*`` by :class:`_QSolver` (a table of :math:`E[\phi^2]` for the first
      guess, one exact Newton step, the exact bracketing path where the table
      does not apply); closed form for piecewise-linear activations.
    * For smooth activations without a closed form, the correlation map and
      its slope come from the Hermite coefficients of :math:`\phi` at ``q*``
      (Mehler's formula), computed once per block of points sorted by
      ``q*``; elsewhere from the vectorized methods of
      :class:`~sigprop.GaussianExpectations` at every layer. The latter is
      slow for activations with kinks and no closed form (ELU, SELU,
      hardtanh), whose pair integrals are two-dimensional quadratures.
    * Scale-invariant activations (ReLU, leaky ReLU, linear) have
      :math:`V(q) = \sigma_w^2 m_2 q + \sigma_b^2` with
      :math:`m_2 = (\alpha_+^2 + \alpha_-^2)/2`: no finite ``q*`` for
      :math:`\sigma_w^2 \ge 1/m_2` (``q_status == "none"``, except
      ``"every"`` at :math:`(1/m_2, 0)`), and an edge of chaos that is that
      single point (``eoc_point``; ``eoc_exists`` is False for
      :math:`\sigma_b^2 > 0`).

    Examples
    --------
    ReLU's edge of chaos is the point (2, 0), where every ``q`` is a fixed
    point:

    >>> import numpy as np, sigprop as sp
    >>> pd = sp.phase_diagram("relu", [1.0, 2.0, 3.0], [0.0, 0.1], depth=50)
    >>> pd.eoc_point, pd.q_status[0].tolist(), pd.phase[0, 1]
    ((2.0, 0.0), ['finite', 'every', 'none'], 'edge')
    """
    act = activation(activation_)
    sw_grid = _check_grid("sigma_w2", sigma_w2)
    sb_grid = _check_grid("sigma_b2", sigma_b2)
    depth = check_depth(depth)
    c0 = check_correlation("c0", c0)
    if block_size is None:
        block_size = max(64, min(2048, _BLOCK_ELEMENTS // (depth + 1)))
    elif (
        isinstance(block_size, bool)
        or not isinstance(block_size, int)
        or (block_size < 1)
    ):
        raise InvalidParameterError(
            f"`block_size` must be a positive integer; got {block_size!r}."
        )
    report = _progress_fn(progress)
    g = expectations_for(act)
    nb, nw = sb_grid.size, sw_grid.size
    sw = np.tile(sw_grid, nb)
    sb = np.repeat(sb_grid, nw)
    npts = sw.size
    notes: list[str] = []

    # -- q*, and the points where it does not exist
    q = np.full(npts, np.nan)
    status = np.full(npts, "finite", dtype="<U6")
    scale_invariant = g.engine == "piecewise_linear"
    eoc_point: tuple[float, float] | None = None
    solver: _QSolver | None = None
    if scale_invariant:
        m2 = g._m2()
        crit = 1.0 / m2
        eoc_point = (crit, 0.0)
        below = sw * m2 < 1.0
        q[below] = sb[below] / (1.0 - sw[below] * m2)
        every = (sw * m2 == 1.0) & (sb == 0.0)
        status[~below] = "none"
        status[every] = "every"
        notes.append(
            f"{act.name} is scale invariant: V(q) = {m2:g} sigma_w2 q + sigma_b2 "
            f"has no finite fixed point q* for sigma_w2 >= {crit:g} (except at "
            f"sigma_b2 = 0, sigma_w2 = {crit:g}, where every q is one); its edge "
            f"of chaos is the single point (sigma_w2, sigma_b2) = ({crit:g}, 0)."
        )
    else:
        q_hi = 4.0 * float(np.max(sw + sb)) + 1.0
        solver = _QSolver(g, q_hi)
        qs, ok = solver.solve(sw, sb)
        q = np.where(ok, qs, np.nan)
        status[~ok] = "none"
        if np.any(~ok):
            notes.append(
                f"no finite fixed point q* below {_Q_MAX:g} where q_status is "
                "'none': the length map grows without bound there."
            )
    report(0, npts)

    # -- everything else, in blocks of points sorted by q*
    out = {
        name: np.full(npts, np.nan)
        for name in ("c_star", "chi_1", "chi_c", "chi_q", "l_star")
    }
    phase = np.full(npts, "undefined", dtype="<U9")
    boundary = np.full(npts, "undefined", dtype="<U9")
    failed = np.zeros(npts, dtype=bool)
    has_q = status != "none"
    qv = np.where(status == "every", 1.0, q)  # the c-map ignores q there
    order = np.nonzero(has_q)[0]
    order = order[np.argsort(qv[order], kind="stable")]
    done = int(npts - order.size)
    use_mehler = g.engine == "numeric" and act.is_smooth
    for sel in _chunks(order, block_size):
        for idx, maps in _block_maps(g, qv[sel], sw[sel], use_mehler):
            res = _block(maps, depth, c0)
            pts = sel[idx]
            for name in out:
                out[name][pts] = getattr(res, name)
            phase[pts] = res.phase
            boundary[pts] = res.boundary
            failed[pts] = res.failed
        done += sel.size
        report(done, npts)
    if np.any(failed):
        notes.append(
            "the correlation fixed point c* did not converge at "
            f"{int(failed.sum())} points: they are marked undefined."
        )
        logger.warning("c* did not converge at %d grid points", int(failed.sum()))
    too_close = has_q & ~failed & (np.abs(c0 - out["c_star"]) < _MIN_SEPARATION)
    if np.any(too_close):
        notes.append(
            f"l* is undefined where c* is within {_MIN_SEPARATION:g} of c0 = {c0:g} "
            "(F(l) = |c^l - c*| is zero from the start); use another c0."
        )

    # -- derived quantities
    chi_1, chi_c, chi_q = out["chi_1"], out["chi_c"], out["chi_q"]
    xi_q = np.full(npts, np.nan)
    xi_c = np.full(npts, np.nan)
    xi_q[has_q] = _depth_scale(chi_q[has_q])
    ok_c = has_q & np.isfinite(chi_c)
    xi_c[ok_c] = np.where(phase[ok_c] == "edge", np.inf, _depth_scale(chi_c[ok_c]))
    if scale_invariant:
        xi_q[status == "every"] = np.inf
    l_star = out["l_star"]

    # -- the edge of chaos
    if scale_invariant:
        assert eoc_point is not None
        eoc_exists = sb_grid == 0.0
        eoc = np.where(eoc_exists, eoc_point[0], np.nan)
    else:
        assert solver is not None
        eoc, eoc_exists = _eoc_curve(g, solver, np.array(sb_grid))
        if not np.all(eoc_exists):
            notes.append(
                "no edge of chaos (chi_1 = 1) exists where eoc_exists is False."
            )

    def grid(a: np.ndarray) -> np.ndarray:
        return a.reshape(nb, nw)

    return PhaseDiagram(
        activation=act.name,
        sigma_w2=np.array(sw_grid),
        sigma_b2=np.array(sb_grid),
        depth=depth,
        c0=c0,
        q_star=grid(np.where(status == "finite", q, np.nan)),
        q_status=grid(status),
        c_star=grid(out["c_star"]),
        chi_1=grid(chi_1),
        chi_c=grid(chi_c),
        chi_q=grid(chi_q),
        xi_q=grid(xi_q),
        xi_c=grid(xi_c),
        trainable_depth=grid(6.0 * xi_c),
        phase=grid(phase),
        l_star=grid(l_star),
        l_star_fraction=grid(l_star / depth),
        boundary=grid(boundary),
        eoc_sigma_w2=eoc,
        eoc_exists=np.asarray(eoc_exists, dtype=bool),
        scale_invariant=scale_invariant,
        eoc_point=eoc_point,
        notes=tuple(notes),
    )


def _progress_fn(progress: bool | Progress) -> Progress:
    if callable(progress):
        return progress
    if progress:

        def log(done: int, total: int) -> None:
            logger.info("phase diagram: %d / %d grid points", done, total)

        return log

    def quiet(done: int, total: int) -> None:
        return None

    return quiet


def _chunks(order: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for lo in range(0, order.size, size):
        yield order[lo : lo + size]


def _block_maps(
    g: GaussianExpectations, q: np.ndarray, sw: np.ndarray, use_mehler: bool
) -> Iterator[tuple[np.ndarray, _Maps]]:
    """The maps of a block, split between the Mehler and the direct engine."""
    idx = np.arange(q.size)
    if not use_mehler:
        yield idx, _Maps(g, q, sw)
        return
    # q* = 0 has no Hermite scaling (Stein's lemma divides by sqrt(q))
    pos = q > 0
    rest = ~pos
    if np.any(pos):
        i = idx[pos]
        maps = _MehlerMaps(g, q[i], sw[i])
        if np.all(maps.ok):
            yield i, maps
        else:
            good = np.nonzero(maps.ok)[0]
            if good.size:
                yield i[good], _subset(maps, good)
            rest[i[~maps.ok]] = True
    if np.any(rest):
        i = idx[rest]
        yield i, _Maps(g, q[i], sw[i])
