"""Activation registry.

One :class:`Activation` object serves every evaluator of the package: a sympy
expression in ``x`` (where one exists), vectorized numpy functions for the
value and the first derivative, an mpmath evaluator for high-precision
references, and a torch function for the validation networks. The object also
carries what the Gaussian-expectation code needs to know about the function:
its kinks (points where ``phi`` or ``phi'`` is not smooth) and, where one
exists, the family whose Gaussian integrals have a closed form.

Registered names
----------------
``relu``, ``leaky_relu`` (``alpha``), ``linear``, ``tanh``, ``erf``, ``gelu``,
``silu`` (alias ``swish``), ``elu`` (``alpha``), ``selu``, ``softplus``,
``sigmoid``, ``sin``, ``cos``, ``hardtanh``.

Anything else is parsed as a sympy expression in ``x`` (``"x*tanh(x)"``), or
passed as a plain numpy-vectorized callable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from scipy import special

from ._errors import ExpressionError, InvalidParameterError, UnknownActivationError
from ._validate import check_real

__all__ = ["Activation", "activation", "registered_activations"]

ArrayFn = Callable[[np.ndarray], np.ndarray]

x_sym = sympy.Symbol("x", real=True)

# SELU constants of Klambauer et al. (2017), eq. (14), to float64 precision.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


@dataclass(frozen=True, eq=False)
class Activation:
    """An activation function ``phi`` with everything sigprop evaluates it by.

    Build one with :func:`activation`; the constructor is not public API.

    Attributes
    ----------
    name : str
        Canonical name, with parameters: ``"leaky_relu(alpha=0.1)"``.
    kind : str
        Registry key, ``"expression"`` or ``"callable"``.
    params : dict
        Parameters of a registered activation (``{"alpha": 0.1}``).
    expr : sympy.Expr or None
        ``phi`` as an expression in the real symbol ``x``; ``None`` for a
        callable.
    kinks : tuple of float
        Points where ``phi`` or ``phi'`` is not smooth (quadrature breaks its
        panels there).
    slopes : tuple of float or None
        ``(alpha_-, alpha_+)`` for positively homogeneous piecewise-linear
        activations ``phi(x) = alpha_+ x`` for ``x > 0`` and ``alpha_- x``
        otherwise (ReLU, leaky ReLU, linear): their maps are closed forms.
    closed_form : str or None
        ``"piecewise_linear"`` or ``"erf"`` where the Gaussian integrals are
        exact; ``None`` where they are computed by quadrature.
    """

    name: str
    kind: str
    params: Mapping[str, float]
    expr: sympy.Expr | None
    _fn: ArrayFn = field(repr=False)
    _dfn: ArrayFn = field(repr=False)
    kinks: tuple[float, ...] = ()
    slopes: tuple[float, float] | None = None
    closed_form: str | None = None
    _torch_fn: Callable[[Any], Any] | None = field(default=None, repr=False)

    # -- evaluation -----------------------------------------------------------

    def __call__(self, x: Any) -> np.ndarray:
        """``phi(x)`` on a numpy array (float64)."""
        return np.asarray(self._fn(np.asarray(x, dtype=float)), dtype=float)

    def derivative(self, x: Any) -> np.ndarray:
        """``phi'(x)`` on a numpy array (the right derivative at a kink)."""
        return np.asarray(self._dfn(np.asarray(x, dtype=float)), dtype=float)

    @property
    def is_smooth(self) -> bool:
        """True when ``phi`` and ``phi'`` have no kink on the real line."""
        return not self.kinks

    @property
    def is_odd(self) -> bool:
        """True when ``phi(-x) = -phi(x)`` (checked on a grid)."""
        grid = np.linspace(-6.0, 6.0, 97)
        with np.errstate(all="ignore"):
            return bool(np.allclose(self(-grid), -self(grid), rtol=0, atol=1e-14))

    def mpmath_fn(self) -> Callable[[Any], Any]:
        """``phi`` as an mpmath function of one mpf argument.

        Raises
        ------
        ExpressionError
            For a callable activation, which has no expression to evaluate at
            high precision.
        """
        if self.expr is None:
            raise ExpressionError(
                f"activation {self.name!r} is a plain callable: it has no "
                "expression to evaluate with mpmath. Pass a sympy expression "
                "string instead (for example 'x*tanh(x)')."
            )
        return _mp_lambdify(self.expr)

    def mpmath_derivative(self) -> Callable[[Any], Any]:
        """``phi'`` as an mpmath function (from the sympy derivative)."""
        if self.expr is None:
            raise ExpressionError(
                f"activation {self.name!r} is a plain callable: it has no "
                "expression to differentiate with mpmath."
            )
        return _mp_lambdify(_diff(self.expr))

    def torch(self, x: Any) -> Any:
        """``phi`` applied to a torch tensor (torch is imported here only).

        The registered activations use torch's own functions; expressions are
        compiled with sympy's torch printer. Tests compare them with the numpy
        evaluation on a grid, derivatives included.
        """
        fn = self._torch_fn
        if fn is None:
            if self.expr is None:
                raise ExpressionError(
                    f"activation {self.name!r} is a plain numpy callable and "
                    "cannot run in torch; pass `torch_fn=` to `sp.activation` or "
                    "use a sympy expression string."
                )
            fn = _torch_lambdify(self.expr)
            object.__setattr__(self, "_torch_fn", fn)
        return fn(x)

    # -- identity -----------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Activation):
            return NotImplemented
        if self.kind == "callable" or other.kind == "callable":
            return self is other
        return self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name) if self.kind != "callable" else id(self)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


# -- helpers -------------------------------------------------------------------


def _diff(expr: sympy.Expr) -> sympy.Expr:
    d = sympy.diff(expr, x_sym)
    # Heaviside(0) and DiracDelta never matter inside an integral; fix the
    # convention so that numeric evaluation at the kink is defined.
    return d.replace(sympy.Heaviside, lambda *a: sympy.Heaviside(a[0], 1))


def _np_lambdify(expr: sympy.Expr) -> ArrayFn:
    fn = sympy.lambdify(x_sym, expr, modules=["numpy", "scipy"])

    def wrapped(x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = fn(x)
        return np.broadcast_to(np.asarray(out, dtype=float), np.shape(x)).copy()

    return wrapped


def _mp_lambdify(expr: sympy.Expr) -> Callable[[Any], Any]:
    return sympy.lambdify(x_sym, expr, modules="mpmath")  # type: ignore[no-any-return]


def _torch_lambdify(expr: sympy.Expr) -> Callable[[Any], Any]:
    import torch

    # torch.maximum needs tensors on both sides; Piecewise prints as where().
    expr = expr.rewrite(sympy.Piecewise)
    fn = sympy.lambdify(x_sym, expr, modules="torch")

    def wrapped(t: Any) -> Any:
        out = fn(t)
        if not isinstance(out, torch.Tensor):
            out = torch.full_like(t, float(out))
        return out

    return wrapped


def _kinks_of(expr: sympy.Expr) -> tuple[float, ...]:
    """Real points where a piecewise expression switches branch."""
    candidates: list[sympy.Expr] = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sympy.core.relational.Relational):
                    candidates.append(rel.lhs - rel.rhs)
        elif isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
            candidates.append(node.args[0])
        elif isinstance(node, (sympy.Max, sympy.Min)):
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    candidates.append(args[i] - args[j])
    points: set[float] = set()
    for cand in candidates:
        try:
            sols = sympy.solve(sympy.Eq(cand, 0), x_sym)
        except (NotImplementedError, TypeError, ValueError) as exc:
            raise ExpressionError(
                f"could not locate the kinks of {expr} (needed to integrate it "
                f"accurately): {exc}"
            ) from exc
        for s in sols:
            if s.is_real and s.is_finite:
                points.add(float(s))
    return tuple(sorted(points))


def _fd_derivative(fn: ArrayFn) -> ArrayFn:
    """Fourth-order central difference; about 1e-11 relative for smooth fn."""
    def dfn(x: np.ndarray) -> np.ndarray:
        h = 1e-3 * np.maximum(1.0, np.abs(x))
        return (
            -fn(x + 2 * h) + 8 * fn(x + h) - 8 * fn(x - h) + fn(x - 2 * h)
        ) / (12 * h)

    return dfn


# -- the registry -----------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    params: Mapping[str, float]
    build: Callable[..., Activation]
    doc: str


def _piecewise_linear(name: str, neg: float, pos: float = 1.0) -> Activation:
    expr = sympy.Piecewise((sympy.nsimplify(neg) * x_sym, x_sym < 0), (x_sym, True))
    if neg == pos:
        expr = sympy.nsimplify(pos) * x_sym

    def fn(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, pos * x, neg * x)

    def dfn(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, pos, neg) + 0.0 * x

    def tfn(t: Any) -> Any:
        import torch

        if neg == 0.0:
            return torch.relu(t)
        return torch.where(t > 0, t, neg * t)

    return Activation(
        name=name,
        kind=name.split("(")[0],
        params={"alpha": neg} if name.startswith("leaky") else {},
        expr=expr,
        _fn=fn,
        _dfn=dfn,
        kinks=() if neg == pos else (0.0,),
        slopes=(neg, pos),
        closed_form="piecewise_linear",
        _torch_fn=tfn,
    )


def _relu() -> Activation:
    return _piecewise_linear("relu", 0.0)


def _leaky_relu(alpha: float = 0.01) -> Activation:
    alpha = check_real("alpha", alpha)
    if not 0.0 <= alpha <= 1.0:
        raise InvalidParameterError(
            f"`alpha` of leaky_relu must be in [0, 1] (the negative slope); got "
            f"{alpha!r}. Use 'linear' for alpha = 1 or an expression otherwise."
        )
    return _piecewise_linear(f"leaky_relu(alpha={alpha:g})", alpha)


def _linear() -> Activation:
    act = _piecewise_linear("linear", 1.0)
    return _replace(act, kind="linear", name="linear")


def _replace(act: Activation, **kw: Any) -> Activation:
    import dataclasses

    return dataclasses.replace(act, **kw)


def _smooth(
    name: str,
    expr: sympy.Expr,
    fn: ArrayFn,
    dfn: ArrayFn,
    tfn: Callable[[Any], Any],
    closed_form: str | None = None,
    params: Mapping[str, float] | None = None,
    kinks: tuple[float, ...] = (),
) -> Activation:
    return Activation(
        name=name,
        kind=name.split("(")[0],
        params=dict(params or {}),
        expr=expr,
        _fn=fn,
        _dfn=dfn,
        kinks=kinks,
        closed_form=closed_form,
        _torch_fn=tfn,
    )


def _tanh() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.tanh(t)

    return _smooth(
        "tanh", sympy.tanh(x_sym), np.tanh, lambda x: 1.0 / np.cosh(x) ** 2, tfn
    )


def _erf() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.erf(t)

    c = 2.0 / math.sqrt(math.pi)
    return _smooth(
        "erf",
        sympy.erf(x_sym),
        special.erf,
        lambda x: c * np.exp(-(x**2)),
        tfn,
        closed_form="erf",
    )


def _gelu() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.nn.functional.gelu(t)

    expr = x_sym * (1 + sympy.erf(x_sym / sympy.sqrt(2))) / 2
    return _smooth(
        "gelu",
        expr,
        lambda x: x * special.ndtr(x),
        lambda x: special.ndtr(x) + x * np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi),
        tfn,
    )


def _silu() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.nn.functional.silu(t)

    def dfn(x: np.ndarray) -> np.ndarray:
        s = special.expit(x)
        return s * (1 + x * (1 - s))

    return _smooth(
        "silu",
        x_sym / (1 + sympy.exp(-x_sym)),
        lambda x: x * special.expit(x),
        dfn,
        tfn,
    )


def _elu(alpha: float = 1.0) -> Activation:
    alpha = check_real("alpha", alpha)
    if alpha <= 0:
        raise InvalidParameterError(f"`alpha` of elu must be > 0; got {alpha!r}.")
    return _elu_like(f"elu(alpha={alpha:g})", alpha, 1.0, {"alpha": alpha})


def _selu() -> Activation:
    return _elu_like("selu", _SELU_ALPHA, _SELU_LAMBDA, {})


def _elu_like(
    name: str, alpha: float, scale: float, params: Mapping[str, float]
) -> Activation:
    a = sympy.Float(alpha, 30) if name == "selu" else sympy.nsimplify(alpha)
    s = sympy.Float(scale, 30) if name == "selu" else sympy.Integer(1)
    expr = s * sympy.Piecewise((a * (sympy.exp(x_sym) - 1), x_sym < 0), (x_sym, True))

    def fn(x: np.ndarray) -> np.ndarray:
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))

    def dfn(x: np.ndarray) -> np.ndarray:
        return scale * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))

    def tfn(t: Any) -> Any:
        import torch

        return scale * torch.where(
            t > 0, t, alpha * torch.expm1(torch.clamp(t, max=0.0))
        )

    return _smooth(name, expr, fn, dfn, tfn, params=params, kinks=(0.0,))


def _softplus() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.nn.functional.softplus(t)

    return _smooth(
        "softplus",
        sympy.log(1 + sympy.exp(x_sym)),
        lambda x: np.logaddexp(0.0, x),
        special.expit,
        tfn,
    )


def _sigmoid() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.sigmoid(t)

    def dfn(x: np.ndarray) -> np.ndarray:
        s = special.expit(x)
        return s * (1 - s)

    return _smooth("sigmoid", 1 / (1 + sympy.exp(-x_sym)), special.expit, dfn, tfn)


def _sin() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.sin(t)

    return _smooth("sin", sympy.sin(x_sym), np.sin, np.cos, tfn)


def _cos() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.cos(t)

    return _smooth("cos", sympy.cos(x_sym), np.cos, lambda x: -np.sin(x), tfn)


def _hardtanh() -> Activation:
    def tfn(t: Any) -> Any:
        import torch

        return torch.clamp(t, -1.0, 1.0)

    expr = sympy.Piecewise((-1, x_sym < -1), (x_sym, x_sym <= 1), (1, True))
    return _smooth(
        "hardtanh",
        expr,
        lambda x: np.clip(x, -1.0, 1.0),
        lambda x: np.where(np.abs(x) < 1.0, 1.0, 0.0),
        tfn,
        kinks=(-1.0, 1.0),
    )


_REGISTRY: dict[str, _Entry] = {
    "relu": _Entry({}, _relu, "max(0, x)"),
    "leaky_relu": _Entry({"alpha": 0.01}, _leaky_relu, "max(alpha x, x), 0<=alpha<=1"),
    "linear": _Entry({}, _linear, "x"),
    "tanh": _Entry({}, _tanh, "tanh(x)"),
    "erf": _Entry({}, _erf, "erf(x)"),
    "gelu": _Entry({}, _gelu, "x Phi(x), exact (erf) form"),
    "silu": _Entry({}, _silu, "x sigmoid(x)"),
    "swish": _Entry({}, _silu, "alias of silu"),
    "elu": _Entry({"alpha": 1.0}, _elu, "x for x>0, alpha (e^x - 1) otherwise"),
    "selu": _Entry({}, _selu, "lambda elu_alpha(x), Klambauer et al. (2017)"),
    "softplus": _Entry({}, _softplus, "log(1 + e^x)"),
    "sigmoid": _Entry({}, _sigmoid, "1 / (1 + e^-x)"),
    "sin": _Entry({}, _sin, "sin(x)"),
    "cos": _Entry({}, _cos, "cos(x)"),
    "hardtanh": _Entry({}, _hardtanh, "clip(x, -1, 1)"),
}


_NAMED_WITH_PARAMS = re.compile(r"^([a-z_]+)\((.*)\)$")


def registered_activations() -> dict[str, str]:
    """Names of the registered activations with a one-line description each."""
    return {k: v.doc for k, v in _REGISTRY.items()}


def _looks_like_name(spec: str) -> bool:
    return spec.replace("_", "").isalnum() and not spec.replace("_", "").isdigit()


def activation(
    spec: str | Activation | Callable[[np.ndarray], np.ndarray],
    *,
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
    kinks: tuple[float, ...] | None = None,
    name: str | None = None,
    torch_fn: Callable[[Any], Any] | None = None,
    **params: float,
) -> Activation:
    """Look up, parse or wrap an activation.

    Parameters
    ----------
    spec : str, Activation or callable
        A registered name (see :func:`registered_activations`), a sympy
        expression in ``x`` such as ``"x*tanh(x)"``, an :class:`Activation`
        (returned as is), or a numpy-vectorized callable.
    derivative : callable, optional
        ``phi'`` for a callable ``spec``; without it a fourth-order central
        difference is used (about 1e-11 relative accuracy for smooth ``phi``).
    kinks : tuple of float, optional
        Points where a callable's ``phi`` or ``phi'`` is not smooth.
    name : str, optional
        Display name of a callable.
    torch_fn : callable, optional
        The torch version of a callable, for the validation networks.
    **params
        Parameters of a registered activation, e.g. ``alpha=0.1`` for
        ``leaky_relu``.

    Returns
    -------
    Activation

    Raises
    ------
    UnknownActivationError
        A bare name that is neither registered nor a function of ``x``.
    ExpressionError
        A string that does not parse, or an expression not of ``x`` alone.

    Examples
    --------
    >>> import sigprop as sp
    >>> sp.activation("leaky_relu", alpha=0.1).slopes
    (0.1, 1.0)
    >>> float(sp.activation("x*tanh(x)")(1.0))  # doctest: +ELLIPSIS
    0.76159...
    """
    if isinstance(spec, Activation):
        if params:
            raise InvalidParameterError(
                f"parameters {sorted(params)} cannot be applied to an existing "
                f"Activation {spec.name!r}; build it from its name instead."
            )
        return spec
    if callable(spec) and not isinstance(spec, str):
        if params:
            raise InvalidParameterError(
                f"unexpected parameters {sorted(params)} for a callable activation."
            )
        fn = spec
        label = str(name or getattr(spec, "__name__", "callable"))
        try:
            probe = np.asarray(fn(np.linspace(-1.0, 1.0, 5)), dtype=float)
        except Exception as exc:  # a user function may raise anything
            raise ExpressionError(
                f"callable activation {label!r} failed on a numpy array: {exc}. "
                "It must be numpy-vectorized."
            ) from exc
        if probe.shape != (5,):
            raise ExpressionError(
                f"callable activation {label!r} must map an array of shape (n,) "
                f"to one of the same shape; got shape {probe.shape}."
            )
        return Activation(
            name=label,
            kind="callable",
            params={},
            expr=None,
            _fn=fn,
            _dfn=derivative if derivative is not None else _fd_derivative(fn),
            kinks=tuple(sorted(float(k) for k in (kinks or ()))),
            _torch_fn=torch_fn,
        )
    if not isinstance(spec, str):
        raise TypeError(
            f"`activation` must be a name, an expression string, an Activation or "
            f"a callable; got {type(spec).__name__}."
        )
    key = spec.strip().lower()
    named = _NAMED_WITH_PARAMS.match(key)
    if named and re.search(r"\bx\b", named.group(2)):
        named = None  # "tanh(2*x)" is an expression in x, not a name with parameters
    if named and named.group(1) in _REGISTRY and not params:
        # a canonical name such as "leaky_relu(alpha=0.1)" reads back
        key = named.group(1)
        for item in filter(None, (p.strip() for p in named.group(2).split(","))):
            pname, sep, value = item.partition("=")
            if not sep:
                raise InvalidParameterError(
                    f"parameters in {spec!r} must look like name=value."
                )
            params[pname.strip()] = check_real(pname.strip(), float(value))
    if key in _REGISTRY:
        entry = _REGISTRY[key]
        unknown = set(params) - set(entry.params)
        if unknown:
            allowed = ", ".join(sorted(entry.params)) or "none"
            raise InvalidParameterError(
                f"activation {key!r} takes parameters: {allowed}; got "
                f"{sorted(unknown)}."
            )
        return entry.build(**params)
    if params:
        raise InvalidParameterError(
            f"parameters {sorted(params)} are only accepted by registered "
            f"activations; {spec!r} is not one of {sorted(_REGISTRY)}."
        )
    return _from_expression(spec)


def _from_expression(spec: str) -> Activation:
    known = ", ".join(sorted(_REGISTRY))
    try:
        expr = sympy.sympify(
            spec,
            locals={"x": x_sym, "relu": lambda e: sympy.Max(0, e)},
        )
    except (sympy.SympifyError, SyntaxError, TypeError, AttributeError) as exc:
        raise ExpressionError(
            f"could not parse activation {spec!r} as a name or an expression in "
            f"`x`. Known names: {known}."
        ) from exc
    if not isinstance(expr, sympy.Expr):
        raise ExpressionError(
            f"activation {spec!r} is not an expression in `x`. Known names: {known}."
        )
    free = expr.free_symbols
    if free != {x_sym}:
        if _looks_like_name(spec.strip()):
            raise UnknownActivationError(
                f"unknown activation {spec!r}. Known names: {known}; or give an "
                "expression in `x` such as 'x*tanh(x)'."
            )
        names = ", ".join(sorted(str(s) for s in free)) or "none"
        raise ExpressionError(
            f"activation expression {spec!r} must be a function of `x` alone; "
            f"its free symbols are: {names}."
        )
    kinks = _kinks_of(expr)
    fn = _np_lambdify(expr)
    dfn = _np_lambdify(_diff(expr))
    probe = fn(np.linspace(-2.0, 2.0, 9))
    if not np.all(np.isfinite(probe)):
        raise ExpressionError(
            f"activation expression {spec!r} is not finite on [-2, 2]; an "
            "activation must be defined on the whole real line."
        )
    return Activation(
        name=str(expr),
        kind="expression",
        params={},
        expr=expr,
        _fn=fn,
        _dfn=dfn,
        kinks=kinks,
    )
