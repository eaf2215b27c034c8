"""Edge of chaos: the ``sigma_w2`` at which ``chi_1 = 1`` for a given ``sigma_b2``."""

from __future__ import annotations

import math
from typing import Any

from scipy import optimize

from ._errors import NoEdgeOfChaosError, NoFixedPointError
from ._validate import check_variance
from .activations import activation
from .gaussian import expectations_for

__all__ = ["edge_of_chaos"]

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
    try:
        f_lo = chi1(lo)
        if f_lo > 0:
            raise NoEdgeOfChaosError(
                f"{a.name} is already chaotic (chi_1 > 1) at sigma_w2 = {lo:g} with "
                f"sigma_b2 = {sigma_b2:g}: no edge of chaos was found."
            )
        f_hi = chi1(hi)
        while f_hi < 0:
            lo, hi = hi, 2 * hi
            if hi > _SW_MAX:
                raise NoEdgeOfChaosError(
                    f"chi_1 stays below 1 for {a.name} with sigma_b2 = {sigma_b2:g} "
                    f"up to sigma_w2 = {_SW_MAX:g}: this activation has no edge of "
                    "chaos at this bias variance (it is ordered for every "
                    "sigma_w2)."
                )
            f_hi = chi1(hi)
    except NoFixedPointError as exc:
        raise NoEdgeOfChaosError(
            f"the length map of {a.name} loses its fixed point before chi_1 "
            f"reaches 1 (sigma_b2 = {sigma_b2:g}): {exc}"
        ) from exc
    if f_hi == 0.0:
        return hi
    root = optimize.brentq(chi1, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=200)
    if not math.isfinite(root):  # pragma: no cover - brentq returns floats
        raise NoEdgeOfChaosError(f"no edge of chaos found for {a.name}.")
    return float(root)
