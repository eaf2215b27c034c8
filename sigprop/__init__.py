"""sigprop: mean-field signal propagation and the equilibrium layer.

Activations
    activation               look up, parse or wrap an activation
    Activation               one activation, for numpy, sympy, mpmath and torch
    registered_activations   names of the built-in activations
Mean field
    MeanField                maps, fixed points, slopes, depth scales, phase,
                             forward and backward recursions
    edge_of_chaos            sigma_w2 with chi_1 = 1 for a sigma_b2
    GaussianExpectations     the Gaussian integrals of an activation
    MeanField(..., dps=N)    the same in mpmath at N >= 16 digits (MPMeanField)
Symbolic and asymptotic
    symbolic                 closed-form kernels, q-maps and c-maps (sympy):
                             symbolic.q_map, symbolic.c_map, symbolic.kernel
    asymptotics              the large-depth law of l* (edge, ordered, chaotic)
    Asymptotics              its result: regime, p, a, exponent, prefactor
    MPMeanField, MPEquilibrium   high-precision mean field and its l*
    NoClosedFormError        an activation whose maps are numeric only
Kernels and the equilibrium layer
    LayerKernels             per-layer NNGP, gradient and tangent kernels
    layer_kernels            compute them for a dataset
    Equilibrium, Crossing    results of an equilibrium-layer computation
    equilibrium              l* for a pair of inputs at correlation c0
    equilibrium_for_data     l* for a dataset
Phase diagrams
    PhaseDiagram             grid results: q*, c*, chi's, xi's, phase, l*, EOC
    phase_diagram            compute one over (sigma_w2, sigma_b2) grids
    load_phase_diagram       read one saved by PhaseDiagram.save
Plots (``import sigprop.plotting``; needs matplotlib, the ``plot`` extra)
    sigprop.plotting         heat maps, information curves, l* vs L, maps
Errors
    SigpropError and its subclasses (see sigprop._errors)

``depth`` is everywhere the number of hidden layers ``L`` (a network of
``L + 1`` linear layers). Variances are named by their squares, ``sigma_w2``
and ``sigma_b2``. The mathematical contract is THEORY.md.
"""

from . import symbolic
from ._errors import (
    ConvergenceError,
    EquilibriumError,
    ExpressionError,
    IndeterminateFixedPointError,
    InvalidParameterError,
    MomentOverflowError,
    NoEdgeOfChaosError,
    NoFixedPointError,
    SigpropError,
    UnknownActivationError,
)
from ._mp import MPEquilibrium, MPMeanField
from ._version import __version__
from .activations import Activation, activation, registered_activations
from .asymptotics import Asymptotics, asymptotics
from .edge import edge_of_chaos
from .equilibrium import Crossing, Equilibrium, equilibrium, equilibrium_for_data
from .gaussian import GaussianExpectations
from .kernels import LayerKernels, layer_kernels
from .meanfield import MeanField
from .phase import PhaseDiagram, load_phase_diagram, phase_diagram
from .symbolic import NoClosedFormError

__all__ = [
    "__version__",
    # activations
    "Activation",
    "activation",
    "registered_activations",
    # mean field
    "MeanField",
    "edge_of_chaos",
    "GaussianExpectations",
    "MPMeanField",
    "MPEquilibrium",
    # symbolic and asymptotic
    "symbolic",
    "asymptotics",
    "Asymptotics",
    "NoClosedFormError",
    # kernels and equilibrium
    "LayerKernels",
    "layer_kernels",
    "Crossing",
    "Equilibrium",
    "equilibrium",
    "equilibrium_for_data",
    # phase diagrams
    "PhaseDiagram",
    "phase_diagram",
    "load_phase_diagram",
    # errors
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
