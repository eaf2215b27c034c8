"""Input checks shared by the public functions.

Each check names the parameter in backticks, states the allowed range, shows
the value received and, where useful, what to try instead.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._errors import InvalidParameterError

__all__ = ["check_variance", "check_depth", "check_correlation", "check_real"]


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise TypeError(
                f"`{name}` must be a real number; got {value!r} "
                f"of type {type(value).__name__}."
            )
    out = float(value)
    if not math.isfinite(out):
        raise InvalidParameterError(
            f"`{name}` must be a finite number; got {value!r}."
        )
    return out


def check_variance(name: str, value: Any) -> float:
    """A variance: finite and >= 0 (squares of standard deviations)."""
    out = check_real(name, value)
    if out < 0:
        raise InvalidParameterError(
            f"`{name}` must be a finite number >= 0 (it is a variance, the square "
            f"of a standard deviation); got {value!r}."
        )
    return out


def check_depth(value: Any, name: str = "depth") -> int:
    """A depth: a positive integer number of hidden layers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(float(value))
        else:
            raise InvalidParameterError(
                f"`{name}` must be a positive integer (the number of hidden "
                f"layers L); got {value!r}."
            )
    out = int(value)
    if out < 1:
        raise InvalidParameterError(
            f"`{name}` must be a positive integer (the number of hidden layers "
            f"L); got {value!r}."
        )
    return out


def check_correlation(name: str, value: Any) -> float:
    """A correlation: finite and in [-1, 1]."""
    out = check_real(name, value)
    if not -1.0 <= out <= 1.0:
        raise InvalidParameterError(
            f"`{name}` must be a correlation in [-1, 1]; got {value!r}."
        )
    return out
