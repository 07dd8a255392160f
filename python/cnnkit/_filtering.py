"""Shared machinery of cnnkit.signal and cnnkit.image: argument checks and the C++ call.

Both modules reduce their work to one operation of the C++ core, ``_core.filter2d``: the
cross-correlation of planes (P, H, W) with a kernel (KH, KW), where output pixel (i, j) reads
input (i - pad_top + a, j - pad_left + b) for kernel tap (a, b) and the input is extended past
its edges by a boundary rule. Each mode of numpy and scipy is a choice of output size and pads;
true convolution is correlation with the kernel flipped on both axes.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnkit import _core, ops

MODES = ("full", "same", "valid")
BOUNDARIES = ("fill", "wrap", "symm")


def real_array(value: object, name: str) -> np.ndarray:
    """A non-empty numpy array of a real number type (bool and integers converted later)."""
    array = ops.real_array(value, name)
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def float_dtype(array: np.ndarray) -> np.dtype:
    """float64 for float64 input, float32 for everything else (integers, bool, float16)."""
    return np.dtype(np.float64 if array.dtype == np.float64 else np.float32)


def choice(value: object, options: tuple[str, ...], name: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def fill_number(value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"fillvalue must be a real number, got {value!r}")
    return float(value)


def correlate_planes(
    planes: np.ndarray,
    kernel: np.ndarray,
    output_shape: tuple[int, int],
    pads: tuple[int, int],
    boundary: str = "fill",
    fillvalue: float = 0.0,
) -> np.ndarray:
    """Correlation of planes (P, H, W) with kernel (KH, KW), computed in planes' dtype."""
    dtype = planes.dtype
    return _core.filter2d(
        np.ascontiguousarray(planes),
        np.ascontiguousarray(kernel, dtype=dtype),
        output_shape=output_shape,
        pads=pads,
        boundary=boundary,
        fillvalue=fillvalue,
    )
