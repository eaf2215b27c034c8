"""Edge of chaos: the ``sigma_w2`` at which ``chi_1 = 1`` for a given ``sigma_b2``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scipy import optimize

from ._errors import NoEdgeOfChaosError, NoFixedPointError
from ._validate import check_variance
from .activations import activation
from .gaussian import expectations_for

__all__ = ["edge_of_chaos"]


def _chi1_or_none(chi1: Callable[[float], float], sw: float) -> float | None:
    """``chi_1(sw) - 1``, or None where the length map has no fixed point."""
    try:
        return chi1(sw)
    except NoFixedPointError:
        return None

_SW_MAX = 1e6


def edge_of_chaos(act: Any, sigma_b2: float = 0.0, *, dps: int | None = None) -> Any:
    r"""Weight variance on the edge of chaos for a bias variance.

    Solves :math:`\chi_1(\sigma_w^2) = \sigma_w^2 E[\phi'(\sqrt{q^*} z)^2] = 1`
    with :math:`q^*` the fixed point of the length map at
    :math:`(\sigma_w^2, \sigma_b^2)`.

    Parameters
    ----------
    act : str, Activation or callable
        The activation.
    sigma_b2 : float, default 0.0
        Bias variance, finite and >= 0.
    dps : int, optional
        Decimal digits (at least 16) of a high-precision solve in mpmath (see
        :func:`sigprop._mp.edge_of_chaos_mp`); ``None`` is float64.

    Returns
    -------
    float
        ``sigma_w2`` on the edge of chaos (an ``mpmath.mpf`` with ``dps``).

    Raises
    ------
    NoEdgeOfChaosError
        For scale-invariant activations with ``sigma_b2 > 0`` (their edge of
        chaos is the single point ``(2 / (1 + alpha^2), 0)``), or when
        ``chi_1 = 1`` has no solution.

    Notes
    -----
    Positively homogeneous piecewise-linear activations are exact:
    :math:`\sigma_w^2 = 2/(\alpha_+^2 + \alpha_-^2)`, which is 2 for ReLU and
    1 for the linear activation. Otherwise the root is bracketed by doubling
    from small ``sigma_w2`` and polished by Brent's method to about 1e-15
    relative.

    Examples
    --------
    >>> import sigprop as sp
    >>> sp.edge_of_chaos("relu")
    2.0
    >>> sw = sp.edge_of_chaos("tanh", sigma_b2=0.05)
    >>> abs(sp.MeanField("tanh", sw, 0.05).chi_1 - 1) < 1e-12
    True
    """
    from .meanfield import MeanField

    if dps is not None:
        from ._mp import edge_of_chaos_mp

        return edge_of_chaos_mp(act, sigma_b2, dps=dps)
    a = activation(act)
    sigma_b2 = check_variance("sigma_b2", sigma_b2)
    g = expectations_for(a)
    if g.engine == "piecewise_linear":
        m2 = g._m2()
        if sigma_b2 > 0:
            raise NoEdgeOfChaosError(
                f"{a.name} is scale invariant: its edge of chaos is the single "
                f"point (sigma_w2, sigma_b2) = ({1 / m2:g}, 0); at sigma_b2 = "
                f"{sigma_b2:g} > 0 no sigma_w2 gives chi_1 = 1 with a finite q*. "
                "Use sigma_b2 = 0."
            )
        return 1.0 / m2

    def chi1(sw: float) -> float:
        return MeanField(a, sw, sigma_b2).chi_1 - 1.0

    lo, hi = 1e-3, 1.0
    f_lo = _chi1_or_none(chi1, lo)
    if f_lo is None or f_lo > 0:
        raise NoEdgeOfChaosError(
            f"{a.name} is already chaotic (chi_1 > 1) or has no fixed point at "
            f"sigma_w2 = {lo:g} with sigma_b2 = {sigma_b2:g}: no edge of chaos "
            "was found."
        )
    while True:
        f_hi = _chi1_or_none(chi1, hi)
        if f_hi is None:
            # q* is lost between lo and hi: bisect for chi_1 = 1 before it is
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                f_mid = _chi1_or_none(chi1, mid)
                if f_mid is None:
                    hi = mid
                elif f_mid >= 0:
                    hi, f_hi = mid, f_mid
                    break
                else:
                    lo = mid
            else:
                raise NoEdgeOfChaosError(
                    f"the length map of {a.name} loses its fixed point q* at "
                    f"sigma_w2 ~ {lo:.6g} (sigma_b2 = {sigma_b2:g}) while chi_1 is "
                    "still below 1: no edge of chaos at this bias variance."
                )
            break
        if f_hi >= 0:
            break
        lo, hi = hi, 2 * hi
        if hi > _SW_MAX:
            raise NoEdgeOfChaosError(
                f"chi_1 stays below 1 for {a.name} with sigma_b2 = {sigma_b2:g} up "
                f"to sigma_w2 = {_SW_MAX:g}: this activation has no edge of chaos "
                "at this bias variance (it is ordered for every sigma_w2)."
            )
    if f_hi == 0.0:
        return hi
    root = float(optimize.brentq(chi1, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=200))
    residual = _chi1_or_none(chi1, root)
    if residual is None or not math.isfinite(root) or abs(residual) > 1e-9:
        # brentq also converges onto a jump of chi_1: where the stable q*
        # reached from q = sigma_w2 + sigma_b2 changes branch
        raise NoEdgeOfChaosError(
            f"chi_1 of {a.name} jumps across 1 at sigma_w2 ~ {root:.10g} "
            f"(sigma_b2 = {sigma_b2:g}), where the stable fixed point q* changes "
            "branch: no sigma_w2 gives chi_1 = 1 at this bias variance."
        )
    return root
