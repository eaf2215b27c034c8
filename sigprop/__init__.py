"""sigprop: mean-field signal propagation and the equilibrium layer."""

from ._version import __version__
from .activations import Activation, activation, registered_activations

__all__ = ["__version__", "Activation", "activation", "registered_activations"]
