"""Device and dtype resolution shared by the validation modules."""

from __future__ import annotations

from typing import Any

import torch

from sigprop._errors import InvalidParameterError

__all__ = ["resolve_device", "resolve_dtype", "DTYPES"]

#: The floating dtypes a validation network may use, by name.
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: Any = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a device into one.

    ``"auto"`` picks the first CUDA device when one is present and the CPU
    otherwise. Asking for CUDA on a machine without it is an error, not a
    silent fall-back, so that a run never reports a device it did not use.
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        key = device.strip().lower()
        if key == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(key)
        except RuntimeError as exc:
            raise InvalidParameterError(
                f"`device` must be 'auto', 'cpu', 'cuda' or 'cuda:<index>'; got "
                f"{device!r}."
            ) from exc
    else:
        raise TypeError(
            f"`device` must be a string or a torch.device; got "
            f"{type(device).__name__}."
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"`device` is {device!r} but no CUDA device is available on this "
            "machine; use device='cpu' or 'auto'."
        )
    if dev.type not in ("cpu", "cuda"):
        raise InvalidParameterError(
            f"`device` must be a CPU or CUDA device; got {device!r}."
        )
    return dev


def resolve_dtype(dtype: Any = "float32") -> torch.dtype:
    """``"float32"``/``"float64"`` or the torch dtype itself."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise InvalidParameterError(
                f"`dtype` must be torch.float32 or torch.float64; got {dtype}."
            )
        return dtype
    if isinstance(dtype, str) and dtype.strip().lower() in DTYPES:
        return DTYPES[dtype.strip().lower()]
    raise InvalidParameterError(
        f"`dtype` must be one of {sorted(DTYPES)}; got {dtype!r}."
    )


def dtype_name(dtype: torch.dtype) -> str:
    """The inverse of :func:`resolve_dtype`."""
    for name, value in DTYPES.items():
        if value == dtype:
            return name
    raise InvalidParameterError(f"`dtype` {dtype} is not a validation dtype.")
