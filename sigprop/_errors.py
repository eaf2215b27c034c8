"""Named exceptions of sigprop.

Every numerical failure of the package is one of these, never a silent NaN.
They all derive from :class:`SigpropError`, and those that signal a bad value
also derive from :class:`ValueError`, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "SigpropError",
    "InvalidParameterError",
    "UnknownActivationError",
    "ExpressionError",
    "MomentOverflowError",
    "NoFixedPointError",
    "IndeterminateFixedPointError",
    "NoEdgeOfChaosError",
    "EquilibriumError",
    "ConvergenceError",
]


class SigpropError(Exception):
    """Base class of every error sigprop raises on purpose."""


class InvalidParameterError(SigpropError, ValueError):
    """A parameter is outside its allowed range (the message names both)."""


class UnknownActivationError(SigpropError, ValueError):
    """An activation name is not in the registry (the message lists it)."""


class ExpressionError(SigpropError, ValueError):
    """An activation expression does not parse or is not a function of ``x``."""


class MomentOverflowError(SigpropError, ArithmeticError):
    """A Gaussian moment of the activation overflows or is not finite."""


class NoFixedPointError(SigpropError, ValueError):
    """The length map has no finite stable fixed point ``q*``."""


class IndeterminateFixedPointError(NoFixedPointError):
    """Every ``q`` is a fixed point (a scale-invariant map at its critical point).

    Raised by ``MeanField.q_star`` for ReLU at ``(2, 0)``; everything that does
    not depend on ``q`` (the correlation map, the equilibrium layer) still
    works.
    """


class NoEdgeOfChaosError(SigpropError, ValueError):
    """No ``sigma_w2`` puts the network at ``chi_1 = 1`` for this ``sigma_b2``."""


class EquilibriumError(SigpropError, ValueError):
    """The information curves do not define an equilibrium layer."""


class ConvergenceError(SigpropError, RuntimeError):
    """An iterative solver or a quadrature did not reach its tolerance."""
