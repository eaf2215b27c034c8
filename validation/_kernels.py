"""Layer-wise empirical tangent kernels of an :class:`MLP`.

For linear layer ``l`` (``l = 1..L+1``, THEORY.md numbering: layer ``l``
produces ``y^l``), the gradient of output ``c`` with respect to its weights
is the outer product ``D^l_c(x) h^{l-1}(x)^T``, with ``D^l_c = df_c / dy^l``,
and with respect to its bias it is ``D^l_c(x)``. The tangent kernel of the
layer's parameters is therefore a forward Gram times a backward Gram,

    K^l[(a, c), (b, c')] = (h^{l-1}_a . h^{l-1}_b + 1) (D^l_c(a) . D^l_{c'}(b)),

(the ``+ 1`` is the bias; drop it for the weights-only kernel), and the
class-traced kernel is ``sum_c K^l[(a, c), (b, c)]``. Per-example gradients
are never formed. The backward vectors follow the exact recursion

    D^{L+1}_c = e_c,   D^l_c = phi'(y^l) * (W^{l+1 T} D^{l+1}_c),

run for all ``C`` outputs at once, from the readout down, so that only two
layers of them are held at a time.

Layout of the full kernel: ``(n C, n C)``, example-major (row ``a * C + c``),
the layout of a flattened ``(n, C)`` Jacobian.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sigprop._errors import InvalidParameterError, SigpropError

from ._models import MLP

__all__ = [
    "KernelMemory",
    "KernelMemoryError",
    "kernel_memory_estimate",
    "layer_tangent_kernels",
    "jacobian_layer_kernels",
    "KINDS",
]

logger = logging.getLogger(__name__)

#: Kernel variants: the full cross-class kernel and the class-traced one.
KINDS = ("full", "traced")


class KernelMemoryError(SigpropError, MemoryError):
    """A kernel computation would need more memory than the caller allowed."""


@dataclass(frozen=True)
class KernelMemory:
    """Up-front estimate of the memory one kernel call needs, in bytes.

    Attributes
    ----------
    trace : int
        Forward trace: every layer's input ``h^{l-1}`` and ``phi'(y^l)``.
    backward : int
        Two layers of backward vectors ``D^l`` for all ``C`` outputs.
    scratch : int
        Per-layer working memory (Grams and one kernel or block of it).
    output : int
        The kernels returned (zero when they are streamed, as by the
        alignment routine).
    """

    trace: int
    backward: int
    scratch: int
    output: int

    @property
    def total(self) -> int:
        """The sum of the parts: the peak the call is expected to reach."""
        return self.trace + self.backward + self.scratch + self.output

    def __str__(self) -> str:
        mib = 2.0**20
        return (
            f"{self.total / mib:.1f} MiB (trace {self.trace / mib:.1f}, backward "
            f"{self.backward / mib:.1f}, scratch {self.scratch / mib:.1f}, output "
            f"{self.output / mib:.1f})"
        )


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise InvalidParameterError(
            f"`kind` must be one of {list(KINDS)} (the (nC x nC) cross-class "
            f"kernel or the class-traced n x n kernel); got {kind!r}."
        )
    return str(kind)


def _check_layers(net: MLP, layers: Iterable[int] | None) -> list[int]:
    top = net.num_layers
    if layers is None:
        return list(range(1, top + 1))
    out = sorted({int(v) for v in layers})
    if not out or out[0] < 1 or out[-1] > top:
        raise InvalidParameterError(
            f"`layers` must be a non-empty set of linear-layer indices in "
            f"1..{top} (1 = input layer, {top} = readout); got {list(layers)!r}."
        )
    return out


def _check_class_block(net: MLP, class_block: int | None) -> int:
    c = net.out_features
    if class_block is None:
        return c
    if isinstance(class_block, bool) or not isinstance(class_block, int) or not (
        1 <= class_block <= c
    ):
        raise InvalidParameterError(
            f"`class_block` must be an integer in 1..{c} (classes per block of "
            f"the full kernel); got {class_block!r}."
        )
    return class_block


def _as_input(net: MLP, x: Any) -> torch.Tensor:
    t = torch.as_tensor(x)
    if t.ndim != 2 or t.shape[1] != net.in_features or t.shape[0] < 1:
        raise InvalidParameterError(
            f"`X` must have shape (n, {net.in_features}) with n >= 1; got "
            f"{tuple(t.shape)}."
        )
    t = t.to(device=net.device, dtype=net.dtype)
    if not bool(torch.isfinite(t).all()):
        raise InvalidParameterError("`X` contains NaN or infinite values.")
    return t


def kernel_memory_estimate(
    net: MLP,
    n: int,
    *,
    kind: str = "traced",
    layers: Iterable[int] | None = None,
    class_block: int | None = None,
    materialize: bool = True,
) -> KernelMemory:
    """Estimate the memory of :func:`layer_tangent_kernels` before calling it.

    Parameters
    ----------
    net : MLP
    n : int
        Number of probe examples.
    kind : {"traced", "full"}
    layers : iterable of int, optional
        Layers asked for (default all ``1..L+1``).
    class_block : int, optional
        Classes per block of the full kernel (default: all ``C``, one block,
        when materializing; one class pair when streaming).
    materialize : bool, default True
        Whether the kernels are returned (True) or streamed one layer at a
        time and discarded (the alignment routine).

    Returns
    -------
    KernelMemory

    Notes
    -----
    With ``d`` inputs, width ``N``, ``C`` outputs and item size ``s``: the
    trace is ``s n (d + 2 L N + 3 N)``, the backward vectors ``2 s C n N``,
    the scratch ``3 s n^2`` plus ``s n C N`` (traced) or ``2 s (n g)^2``
    (full, blocks of ``g`` classes), and the output ``s n^2`` (traced) or
    ``s (n C)^2`` (full) per returned layer: ``O(L n N + C n N + (n C)^2)``.
    It counts tensor bytes; the process's resident memory also holds what
    the C allocator keeps after frees and the BLAS workspaces, which the
    benchmark measures on top.
    """
    kind = _check_kind(kind)
    lay = _check_layers(net, layers)
    if class_block is None:
        # Defaults of the two callers: one block when materializing, one
        # class pair at a time when streaming (layer_alignments).
        class_block = net.out_features if materialize else 1
    g = _check_class_block(net, class_block)
    s = torch.empty((), dtype=net.dtype).element_size()
    L, N, d, C = net.depth, net.width, net.in_features, net.out_features
    # Kept: every layer's input and phi'(y^l); transient: y, phi(y), phi'(y).
    trace = s * n * (d + 2 * L * N) + 3 * s * n * N
    backward = 2 * s * C * n * max(N, C)
    scratch = 3 * s * n * n
    if kind == "full":
        # One block of g classes and one temporary of its size.
        scratch += 2 * s * (n * g) ** 2
        per_layer = s * (n * C) ** 2
    else:
        # The (n, C N) copy of D^l that the backward Gram multiplies.
        scratch += s * n * C * N
        per_layer = s * n * n
    output = per_layer * len(lay) if materialize else 0
    return KernelMemory(trace=trace, backward=backward, scratch=scratch, output=output)


def _check_budget(est: KernelMemory, max_memory: int | None) -> None:
    logger.debug("layer kernels need about %s", est)
    if max_memory is not None and est.total > max_memory:
        raise KernelMemoryError(
            f"the layer kernels need about {est}, more than `max_memory` = "
            f"{max_memory / 2.0**20:.1f} MiB. Ask for fewer `layers`, a smaller "
            "`class_block`, the traced kernel, or stream them through "
            "`layer_alignments`."
        )


def _iter_factors(
    net: MLP, x: torch.Tensor, layers: Sequence[int]
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield ``(l, h^{l-1}, D^l)`` from the readout down, for ``l`` in layers.

    ``D^l`` has shape ``(C, n, n_l)``: ``D^l[c, a] = df_c(x_a) / dy^l``.
    """
    trace = net.trace(x)
    n, C = x.shape[0], net.out_features
    wanted = set(layers)
    with torch.no_grad():
        # D^{L+1}_c = e_c for every example.
        eye = torch.eye(C, dtype=net.dtype, device=net.device)
        D = eye[:, None, :].expand(C, n, C)
        for k in range(net.num_layers, min(wanted) - 1, -1):
            if k in wanted:
                yield k, trace.inputs[k - 1], D
            if k > 1:
                W = net.layer(k).weight  # W^k, shape (n_k, n_{k-1})
                D = torch.matmul(D, W) * trace.slopes[k - 2]


def _forward_gram(h: torch.Tensor, include_bias: bool) -> torch.Tensor:
    G = h @ h.T
    return G + 1.0 if include_bias else G


def _traced_backward_gram(D: torch.Tensor) -> torch.Tensor:
    C, n, m = D.shape
    flat = D.permute(1, 0, 2).reshape(n, C * m)
    return flat @ flat.T


def _full_kernel(
    Gf: torch.Tensor, D: torch.Tensor, class_block: int
) -> torch.Tensor:
    C, n, _ = D.shape
    out = torch.empty((n, C, n, C), dtype=D.dtype, device=D.device)
    for i in range(0, C, class_block):
        Di = D[i : i + class_block]
        gi = Di.shape[0]
        for j in range(0, C, class_block):
            Dj = D[j : j + class_block]
            gj = Dj.shape[0]
            # (gi, n, N) x (gj, n, N) -> (gi, n, gj, n), one class-pair block set
            blk = (Di.reshape(gi * n, -1) @ Dj.reshape(gj * n, -1).T).view(
                gi, n, gj, n
            )
            blk = blk * Gf[None, :, None, :]
            out[:, i : i + gi, :, j : j + gj] = blk.permute(1, 0, 3, 2)
    return out.reshape(n * C, n * C)


def layer_tangent_kernels(
    net: MLP,
    X: Any,
    *,
    kind: str = "traced",
    include_bias: bool = True,
    layers: Iterable[int] | None = None,
    class_block: int | None = None,
    max_memory: int | None = None,
) -> list[torch.Tensor]:
    """Empirical tangent kernel of each linear layer's parameters on ``X``.

    Parameters
    ----------
    net : MLP
    X : array_like, shape (n, d)
        Probe inputs (moved to the network's device and dtype).
    kind : {"traced", "full"}, default "traced"
        ``"traced"``: the ``n x n`` kernel ``sum_c grad f_c(a) . grad f_c(b)``;
        ``"full"``: the ``(n C) x (n C)`` kernel of all class pairs,
        example-major (row ``a * C + c``).
    include_bias : bool, default True
        Weights and bias of the layer (True) or weights only.
    layers : iterable of int, optional
        Linear layers to return, ``1..L+1`` (default all).
    class_block : int, optional
        Build the full kernel in blocks of this many classes (less scratch).
    max_memory : int, optional
        Refuse, before computing, a call whose estimate
        (:func:`kernel_memory_estimate`) exceeds this many bytes.

    Returns
    -------
    list of torch.Tensor
        One kernel per requested layer, input layer first, on the network's
        device and in its dtype.

    Raises
    ------
    KernelMemoryError
        When the estimate exceeds ``max_memory``.

    Notes
    -----
    Exact for fully connected layers (see the module docstring); the cost is
    ``O(C n^2 N)`` per layer for the traced kernel and ``O((n C)^2 N)`` for
    the full one. The tests check both against
    :func:`jacobian_layer_kernels` in float64.
    """
    kind = _check_kind(kind)
    lay = _check_layers(net, layers)
    g = _check_class_block(net, class_block)
    x = _as_input(net, X)
    _check_budget(
        kernel_memory_estimate(net, x.shape[0], kind=kind, layers=lay, class_block=g),
        max_memory,
    )
    out: dict[int, torch.Tensor] = {}
    for k, h, D in _iter_factors(net, x, lay):
        Gf = _forward_gram(h, include_bias)
        if kind == "traced":
            out[k] = Gf * _traced_backward_gram(D)
        else:
            out[k] = _full_kernel(Gf, D, g)
    return [out[k] for k in lay]


def jacobian_layer_kernels(
    net: MLP,
    X: Any,
    *,
    kind: str = "traced",
    include_bias: bool = True,
    layers: Iterable[int] | None = None,
) -> list[torch.Tensor]:
    """Reference layer kernels from brute-force per-example Jacobians.

    Same contract as :func:`layer_tangent_kernels`, computed the slow way:
    ``torch.func.jacrev`` of the outputs with respect to one layer's
    parameters, vectorized over examples with ``torch.func.vmap``, then
    ``J J^T``. Memory ``O(n C P_l)`` for a layer of ``P_l`` parameters; meant
    for tests and benchmarks on small networks.
    """
    from torch.func import functional_call, jacrev, vmap

    kind = _check_kind(kind)
    lay = _check_layers(net, layers)
    x = _as_input(net, X)
    n, C = x.shape[0], net.out_features
    base = {k: v.detach() for k, v in net.named_parameters()}
    out = []
    for k in lay:
        names = [f"linears.{k - 1}.weight"]
        if include_bias:
            names.append(f"linears.{k - 1}.bias")
        own = {k: base[k] for k in names}

        def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
            res: torch.Tensor = functional_call(net, {**base, **p}, (xi[None],))[0]
            return res

        jac = vmap(jacrev(f), in_dims=(None, 0))(own, x)
        J = torch.cat([jac[k].reshape(n, C, -1) for k in names], dim=2)
        J = J.reshape(n * C, -1)
        K = J @ J.T
        if kind == "traced":
            K = K.view(n, C, n, C).diagonal(dim1=1, dim2=3).sum(-1)
        out.append(K)
    return out


def _numpy(t: torch.Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)
