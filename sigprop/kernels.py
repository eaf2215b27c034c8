r"""Layer-wise infinite-width kernels of a dataset (THEORY.md, section 4).

For inputs ``X`` (``n x d``) and ``L`` hidden layers:

* :math:`K^0 = X X^T / d`, :math:`q^1 = \sigma_w^2 K^0 + \sigma_b^2`;
* :math:`K^l = E[\phi(u_a)\phi(u_b)]` under :math:`q^l`,
  :math:`q^{l+1} = \sigma_w^2 K^l + \sigma_b^2` (``q^{L+1}`` is the NNGP);
* :math:`\tilde q^{L+1} = 1`,
  :math:`\tilde q^l = \sigma_w^2 E[\phi'(u_a)\phi'(u_b)] \tilde q^{l+1}`;
* :math:`\Theta^l = q^l \tilde q^l`, the tangent kernel of layer ``l``'s
  weights and bias in NTK parameterization, split into its weights part
  :math:`\sigma_w^2 K^{l-1}\tilde q^l` and bias part
  :math:`\sigma_b^2\tilde q^l`.

Every pair keeps its own variances: unequal input norms are propagated
exactly. Expectations are computed once per layer, on the upper triangle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import InvalidParameterError
from ._validate import check_depth

if TYPE_CHECKING:
    from .meanfield import MeanField

__all__ = ["LayerKernels", "layer_kernels", "pair_curves"]


@dataclass(frozen=True)
class LayerKernels:
    """Per-layer kernels, each of shape ``(L + 1, n, n)`` with layer 1 first.

    Attributes
    ----------
    q : ndarray
        Pre-activation covariances :math:`q^1..q^{L+1}` (the NNGP of each
        layer; ``q[L]`` is that of the network's output).
    qt : ndarray
        Gradient covariances :math:`\\tilde q^1..\\tilde q^{L+1}`.
    ntk : ndarray
        :math:`\\Theta^l = q^l \\tilde q^l`; ``ntk.sum(0)`` is the NTK of the
        whole network in NTK parameterization.
    ntk_weights, ntk_bias : ndarray
        The weights and bias parts of ``ntk``.
    K : ndarray, shape (L + 1, n, n)
        Post-activation kernels :math:`K^0..K^L` (``K[0] = X X^T / d``).
    depth : int
        ``L``, the number of hidden layers.
    """

    q: np.ndarray = field(repr=False)
    qt: np.ndarray = field(repr=False)
    ntk: np.ndarray = field(repr=False)
    ntk_weights: np.ndarray = field(repr=False)
    ntk_bias: np.ndarray = field(repr=False)
    K: np.ndarray = field(repr=False)
    depth: int = 0

    @property
    def correlations(self) -> np.ndarray:
        """:math:`c^l_{ab}` for ``l = 1..L+1``."""
        return _normalize(self.q)

    @property
    def gradient_correlations(self) -> np.ndarray:
        """:math:`\\tilde c^l_{ab}` for ``l = 1..L+1``."""
        return _normalize(self.qt)

    @property
    def ntk_correlations(self) -> np.ndarray:
        """Correlation of :math:`\\Theta^l`: :math:`c^l_{ab}\\tilde c^l_{ab}`."""
        return _normalize(self.ntk)


def _normalize(a: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.einsum("...ii->...i", a))
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / (d[..., :, None] * d[..., None, :])


def _check_X(X: Any) -> np.ndarray:
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidParameterError(
            f"`X` must be a 2-D array of shape (n, d); got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("`X` must contain only finite numbers.")
    if np.any(np.einsum("ij,ij->i", arr, arr) == 0):
        raise InvalidParameterError(
            "`X` has an all-zero row: its correlation with the other inputs is "
            "undefined. Remove it."
        )
    return arr


def _pairwise(fn: Any, q: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """Evaluate a pair expectation on the upper triangle and mirror it."""
    n = q.shape[0]
    iu, ju = np.triu_indices(n, k=1)
    out = np.empty_like(q)
    if iu.size:
        vals = fn(q[iu, iu], q[ju, ju], q[iu, ju])
        out[iu, ju] = vals
        out[ju, iu] = vals
    out[np.arange(n), np.arange(n)] = diag
    return out


def layer_kernels(mf: MeanField, X: Any, depth: int) -> LayerKernels:
    """Infinite-width per-layer kernels of a dataset.

    Parameters
    ----------
    mf : MeanField
        Activation and initialization.
    X : array_like, shape (n, d)
        Inputs; rows of any (non-zero) norm.
    depth : int
        Number of hidden layers ``L`` (``L + 1`` linear layers).

    Returns
    -------
    LayerKernels

    Examples
    --------
    The per-layer NTKs add up to the whole-network NTK, whose first term is
    the input layer's :math:`q^1 \\tilde q^1`:

    >>> import numpy as np, sigprop as sp
    >>> X = np.eye(3)
    >>> k = sp.MeanField("relu", 2.0, 0.1).kernels(X, depth=4)
    >>> k.ntk.shape
    (5, 3, 3)
    >>> bool(np.allclose(k.ntk, k.ntk_weights + k.ntk_bias))
    True
    """
    depth = check_depth(depth)
    x = _check_X(X)
    g = mf._g
    sw, sb = mf.sigma_w2, mf.sigma_b2
    n, d = x.shape

    K = np.empty((depth + 1, n, n))
    q = np.empty((depth + 1, n, n))
    dd = np.empty((depth, n, n))
    K[0] = x @ x.T / d
    q[0] = sw * K[0] + sb
    for layer in range(1, depth + 1):
        ql = q[layer - 1]
        diag = ql.diagonal().copy()
        K[layer] = _pairwise(g.e_phiphi, ql, g.e_phi2(diag))
        dd[layer - 1] = _pairwise(g.e_dd, ql, g.e_dphi2(diag))
        q[layer] = sw * K[layer] + sb

    qt = np.empty((depth + 1, n, n))
    qt[depth] = 1.0
    for layer in range(depth, 0, -1):
        qt[layer - 1] = sw * dd[layer - 1] * qt[layer]

    ntk_weights = sw * K * qt
    ntk_bias = sb * qt
    return LayerKernels(
        q=q,
        qt=qt,
        ntk=q * qt,
        ntk_weights=ntk_weights,
        ntk_bias=ntk_bias,
        K=K,
        depth=depth,
    )


def pair_curves(k: LayerKernels, c_star: float) -> tuple[np.ndarray, np.ndarray]:
    """Dataset-level ``F(l)``, ``l = 0..L``, and ``B(l)``, ``l = 1..L+1``.

    Means over distinct pairs ``a < b`` of :math:`|c^l_{ab} - c^*|` (with
    :math:`c^0` the cosine similarity of the inputs) and of
    :math:`\\tilde c^l_{ab}`.
    """
    n = k.q.shape[1]
    if n < 2:
        raise InvalidParameterError(
            f"dataset-level curves need at least 2 inputs; got n = {n}."
        )
    iu, ju = np.triu_indices(n, k=1)
    c = np.concatenate([_normalize(k.K[:1]), _normalize(k.q[:-1])])
    fwd = np.abs(c[:, iu, ju] - c_star).mean(axis=1)
    bwd = _normalize(k.qt)[:, iu, ju].mean(axis=1)
    return fwd, bwd
