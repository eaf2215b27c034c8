"""Alignment of a kernel with the labels.

Two forms, following THEORY.md section 4 and VALIDATION.md:

- the class-traced ``n x n`` kernel ``K``: centered kernel alignment (CKA)
  with the label kernel ``Y Y^T`` (``Y`` the ``n x C`` one-hot labels),

      A(K) = <H K H, H Y Y^T H>_F / (||H K H||_F ||H Y Y^T H||_F),
      H = I - 1 1^T / n;

- the full ``(n C) x (n C)`` kernel (example-major, as
  :func:`layer_tangent_kernels` returns it): the alignment of Baratin et al.
  (2021), ``A = y^T Kc y / (||Kc||_F ||y||^2)``, where every class block
  ``K[(., c), (., c')]`` is double-centered over examples and ``y`` is the
  flattened one-hot label matrix with each column centered.

``centered=False`` gives the uncentered kernel-target alignment of Cristianini
et al. (2002): no ``H``, ``y`` not centered. All are invariant to scaling
``K`` and lie in ``[-1, 1]``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from sigprop._errors import InvalidParameterError, SigpropError

from ._kernels import (
    _as_input,
    _check_budget,
    _check_class_block,
    _check_kind,
    _check_layers,
    _forward_gram,
    _iter_factors,
    _traced_backward_gram,
    kernel_memory_estimate,
)
from ._models import MLP

__all__ = ["AlignmentError", "alignment", "layer_alignments", "one_hot"]

logger = logging.getLogger(__name__)

# A centered kernel whose norm is below this fraction of the uncentered norm
# is constant up to rounding: its alignment would be noise divided by noise.
_DEGENERATE_RTOL = 1e-12


class AlignmentError(SigpropError, ValueError):
    """The alignment is undefined: a zero kernel or a single-class probe set."""


def _labels(labels: Any, n: int | None = None) -> np.ndarray:
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1 or (n is not None and y.shape[0] != n):
        want = f"({n},)" if n is not None else "(n,)"
        raise InvalidParameterError(
            f"`labels` must be a 1-d array of integer class labels of shape "
            f"{want}; got shape {y.shape}."
        )
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise InvalidParameterError(
                "`labels` must be integer class labels; got non-integer values."
            )
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise InvalidParameterError(
            f"`labels` must be >= 0; got a minimum of {int(y.min())}."
        )
    if np.unique(y).size < 2:
        raise AlignmentError(
            "`labels` hold a single class: the label kernel is constant, so "
            "its alignment with any kernel is undefined. Use a probe set with "
            "at least two classes."
        )
    return y


def one_hot(labels: Any, num_classes: int) -> np.ndarray:
    """One-hot ``(n, C)`` float64 matrix of integer labels ``< num_classes``."""
    y = np.asarray(labels, dtype=np.int64)
    if y.size and y.max() >= num_classes:
        raise InvalidParameterError(
            f"`labels` must be < num_classes = {num_classes}; got a maximum of "
            f"{int(y.max())}."
        )
    out = np.zeros((y.shape[0], num_classes))
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def _check_norm(norm: float, raw: float, what: str) -> None:
    if not math.isfinite(norm) or not math.isfinite(raw):
        raise AlignmentError(f"the {what} has NaN or infinite entries.")
    if raw == 0.0 or norm <= _DEGENERATE_RTOL * raw:
        raise AlignmentError(
            f"the {what} is zero (or constant, once centered): its alignment "
            "is undefined. A dead layer (all gradients zero) gives this; check "
            "the network's initialization and activation."
        )


def alignment(
    K: Any,
    labels: Any,
    *,
    centered: bool = True,
    num_classes: int | None = None,
) -> float:
    """Alignment of a traced or full kernel with integer labels.

    Parameters
    ----------
    K : torch.Tensor or array_like
        ``(n, n)`` class-traced kernel or ``(n C, n C)`` full kernel
        (example-major), as :func:`layer_tangent_kernels` returns them.
    labels : array_like of int, shape (n,)
    centered : bool, default True
        Centered alignment (CKA; Baratin et al.'s form for the full kernel),
        or the uncentered kernel-target alignment.
    num_classes : int, optional
        ``C``. For a full kernel it is read from the shape; for a traced one
        it defaults to ``max(labels) + 1`` (the value does not change a
        traced alignment).

    Returns
    -------
    float
        In ``[-1, 1]``.

    Raises
    ------
    AlignmentError
        For a zero (or, centered, constant) kernel, non-finite entries, or a
        single-class probe set.

    Examples
    --------
    The label kernel itself is perfectly aligned:

    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 2, 0])
    >>> Y = np.eye(3)[y]
    >>> round(alignment(Y @ Y.T, y), 12)
    1.0
    """
    Kt = torch.as_tensor(K)
    if Kt.ndim != 2 or Kt.shape[0] != Kt.shape[1]:
        raise InvalidParameterError(
            f"`K` must be a square matrix; got shape {tuple(Kt.shape)}."
        )
    size = Kt.shape[0]
    y = _labels(labels)
    n = y.shape[0]
    if size == n:
        C = int(num_classes) if num_classes is not None else int(y.max()) + 1
        full = False
    elif size % n == 0:
        C = size // n
        full = True
        if num_classes is not None and num_classes != C:
            raise InvalidParameterError(
                f"`num_classes` is {num_classes} but a full kernel of size {size} "
                f"on {n} examples has C = {C}."
            )
    else:
        raise InvalidParameterError(
            f"`K` must be (n, n) or (n C, n C) for n = {n} labels; got shape "
            f"{tuple(Kt.shape)}."
        )
    Kd = Kt.detach().to(torch.float64)
    Y = torch.as_tensor(one_hot(y, C), dtype=torch.float64, device=Kd.device)
    raw = float(torch.linalg.matrix_norm(Kd))
    if full:
        K4 = Kd.view(n, C, n, C)
        if centered:
            K4 = (
                K4
                - K4.mean(dim=0, keepdim=True)
                - K4.mean(dim=2, keepdim=True)
                + K4.mean(dim=(0, 2), keepdim=True)
            )
            Y = Y - Y.mean(dim=0, keepdim=True)
        norm = float(torch.linalg.vector_norm(K4))
        _check_norm(norm, raw, "kernel")
        num = float(torch.einsum("ac,acbd,bd->", Y, K4, Y))
        return num / (norm * float((Y * Y).sum()))
    T = Y @ Y.T
    if centered:
        Kd = Kd - Kd.mean(dim=0, keepdim=True)
        Kd = Kd - Kd.mean(dim=1, keepdim=True)
        T = T - T.mean(dim=0, keepdim=True)
        T = T - T.mean(dim=1, keepdim=True)
    norm = float(torch.linalg.matrix_norm(Kd))
    _check_norm(norm, raw, "kernel")
    return float((Kd * T).sum()) / (norm * float(torch.linalg.matrix_norm(T)))


def _sq_norm(t: torch.Tensor) -> float:
    # Squared Frobenius norm, accumulated in float64.
    return float(torch.linalg.vector_norm(t, dtype=torch.float64)) ** 2


def layer_alignments(
    net: MLP,
    X: Any,
    labels: Any,
    *,
    kind: str = "full",
    include_bias: bool = True,
    centered: bool = True,
    layers: Iterable[int] | None = None,
    class_block: int | None = None,
    max_memory: int | None = None,
) -> np.ndarray:
    """Alignment of every layer's tangent kernel, streamed one layer at a time.

    Equal to ``[alignment(K, labels, centered=centered) for K in
    layer_tangent_kernels(net, X, kind=kind, include_bias=include_bias)]``
    but never holds more than one layer's kernel (for ``kind="full"``, one
    block of ``class_block`` x ``class_block`` classes, by default a single
    class pair, and by symmetry only the blocks on and above the diagonal),
    so that the full kernel of a deep network fits in memory.

    Parameters
    ----------
    net, X, kind, include_bias, layers, class_block, max_memory
        As in :func:`layer_tangent_kernels`.
    labels : array_like of int, shape (n,)
        Class labels of ``X``, all ``< net.out_features``.
    centered : bool, default True

    Returns
    -------
    numpy.ndarray
        ``A[i]`` for the ``i``-th requested layer, input layer first.

    Raises
    ------
    AlignmentError
        For a layer whose kernel is zero, or a single-class probe set.
    """
    kind = _check_kind(kind)
    lay = _check_layers(net, layers)
    g = _check_class_block(net, 1 if class_block is None else class_block)
    x = _as_input(net, X)
    n, C = x.shape[0], net.out_features
    y = _labels(labels, n)
    Y = torch.as_tensor(one_hot(y, C), dtype=net.dtype, device=net.device)
    _check_budget(
        kernel_memory_estimate(
            net, n, kind=kind, layers=lay, class_block=g, materialize=False
        ),
        max_memory,
    )
    if centered:
        Y = Y - Y.mean(dim=0, keepdim=True)
    Yc = Y.T.contiguous()  # (C, n)
    y2 = float((Y.double() ** 2).sum())
    out: dict[int, float] = {}
    for k, h, D in _iter_factors(net, x, lay):
        Gf = _forward_gram(h, include_bias)
        if kind == "traced":
            out[k] = alignment(Gf * _traced_backward_gram(D), y, centered=centered)
            continue
        num = 0.0
        fro2 = 0.0
        raw2 = 0.0
        # Block (j, i) is the transpose of block (i, j): visit i <= j only and
        # count the off-diagonal blocks twice.
        for i in range(0, C, g):
            Di = D[i : i + g]
            gi = Di.shape[0]
            for j in range(i, C, g):
                Dj = D[j : j + g]
                gj = Dj.shape[0]
                w = 1.0 if i == j else 2.0
                blk = torch.matmul(Di.reshape(gi * n, -1), Dj.reshape(gj * n, -1).T)
                blk = blk.view(gi, n, gj, n).mul_(Gf[None, :, None, :])
                raw2 += w * _sq_norm(blk)
                if centered:
                    # Sequential in-place centering over each example axis is
                    # exactly K - mean_a - mean_b + mean_ab.
                    blk.sub_(blk.mean(dim=1, keepdim=True))
                    blk.sub_(blk.mean(dim=3, keepdim=True))
                fro2 += w * _sq_norm(blk)
                num += w * float(
                    torch.einsum("cn,cndm,dm->", Yc[i : i + gi], blk, Yc[j : j + gj])
                )
        norm = math.sqrt(fro2)
        _check_norm(norm, math.sqrt(raw2), f"kernel of layer {k}")
        out[k] = num / (norm * y2)
    return np.array([out[k] for k in lay])
