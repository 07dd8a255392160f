"""The C++ core, thin and direct: convolution, pooling and dense products on numpy arrays.

Every function takes Keras-style arguments (channels_last by default, kernel layout
(kh, kw, in_channels, filters)), normalises them here, and calls one kernel of
``cnnkit._core`` with C-contiguous float32 or float64 arrays. 1-D ops run as 2-D ops on a
height-1 image. Output dtype: float64 if any array input is float64, else float32.

Denormals (magnitudes below about 1.2e-38 in float32, 2.2e-308 in float64) are flushed to zero
inside the kernels, because computing with them is 10-100x slower: a denormal input counts as
zero and a result that would be denormal is returned as zero. Max pooling compares denormals
as zero but returns the value it selects unchanged, and its gradient routes values without
arithmetic, so denormals can pass through it. The calling thread's floating-point settings are
restored after every call, so numpy is unaffected.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnkit import _core

__all__ = [
    "avg_pool1d",
    "avg_pool1d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "dense",
    "dense_backward",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
]

_PADDINGS = ("valid", "same")
_DATA_FORMATS = ("channels_last", "channels_first")


# ---------------------------------------------------------------- argument normalisation


def _compute_dtype(*arrays: np.ndarray | None) -> np.dtype:
    present = [a for a in arrays if a is not None]
    return np.dtype(np.float64 if any(a.dtype == np.float64 for a in present) else np.float32)


def real_array(value: object, name: str) -> np.ndarray:
    """A numpy array of a real number type (bool and integers are accepted and converted)."""
    try:
        array = np.asarray(value)
    except Exception as error:  # numpy raises many types for ragged or odd objects
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from error
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


def _cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=dtype)


def _int_tuple(value: int | Sequence[int], rank: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of `rank` ints, each >= 1."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{name} must be an int or a tuple of {rank} ints, got {value!r}")
    if any(v < 1 for v in values):
        raise ValueError(f"{name} must be positive, got {value!r}")
    return tuple(int(v) for v in values)


def _choice(value: object, options: tuple[str, ...], name: str) -> str:
    text = value.lower() if isinstance(value, str) else value
    if text not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return text


def _activation(value: object) -> bool:
    """Whether the fused activation is ReLU."""
    if value is None or value == "linear":
        return False
    if value == "relu":
        return True
    raise ValueError(f"activation must be None, 'linear' or 'relu', got {value!r}")


def _check_rank(array: np.ndarray, rank: int, name: str, layout: str) -> None:
    if array.ndim != rank:
        raise ValueError(
            f"{name} must have {rank} dimensions {layout}, got shape {array.shape}"
        )


def _to_nhwc(x: np.ndarray, data_format: str) -> np.ndarray:
    return x.transpose(0, 2, 3, 1) if data_format == "channels_first" else x


def _from_nhwc(y: np.ndarray, data_format: str) -> np.ndarray:
    if data_format == "channels_first":
        return np.ascontiguousarray(y.transpose(0, 3, 1, 2))
    return y


def _layout(rank: int, data_format: str) -> str:
    spatial = {1: "L", 2: "H, W"}[rank]
    return f"(N, C, {spatial})" if data_format == "channels_first" else f"(N, {spatial}, C)"


# ---------------------------------------------------------------- convolution


def conv2d(
    x,
    kernel,
    bias=None,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    data_format="channels_last",
    activation=None,
) -> np.ndarray:
    """2-D cross-correlation, as every CNN layer computes it, with optional bias and ReLU.

    x: (N, H, W, C) or, channels_first, (N, C, H, W); kernel: (kh, kw, C, filters);
    bias: (filters,). Returns (N, OH, OW, filters) (or channels_first order).
    """
    x = real_array(x, "x")
    kernel = real_array(kernel, "kernel")
    bias = None if bias is None else real_array(bias, "bias")
    data_format = _choice(data_format, _DATA_FORMATS, "data_format")
    _check_rank(x, 4, "x", _layout(2, data_format))
    _check_rank(kernel, 4, "kernel", "(kh, kw, in_channels, filters)")
    dtype = _compute_dtype(x, kernel, bias)
    y = _core.conv2d_forward(
        _cast(_to_nhwc(x, data_format), dtype),
        _cast(kernel, dtype),
        None if bias is None else _cast(bias, dtype),
        strides=_int_tuple(strides, 2, "strides"),
        padding=_choice(padding, _PADDINGS, "padding"),
        dilation_rate=_int_tuple(dilation_rate, 2, "dilation_rate"),
        relu=_activation(activation),
    )
    return _from_nhwc(y, data_format)


def conv2d_backward(
    x,
    kernel,
    grad_output,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    data_format="channels_last",
    input_grad=True,
):
    """Gradients of conv2d: (grad_x or None, grad_kernel, grad_bias).

    grad_output is the gradient of the convolution before any activation. With
    input_grad=False, grad_x is not computed and None is returned in its place.
    """
    x = real_array(x, "x")
    kernel = real_array(kernel, "kernel")
    grad_output = real_array(grad_output, "grad_output")
    data_format = _choice(data_format, _DATA_FORMATS, "data_format")
    _check_rank(x, 4, "x", _layout(2, data_format))
    _check_rank(kernel, 4, "kernel", "(kh, kw, in_channels, filters)")
    _check_rank(grad_output, 4, "grad_output", _layout(2, data_format))
    dtype = _compute_dtype(x, kernel, grad_output)
    dx, dw, db = _core.conv2d_backward(
        _cast(_to_nhwc(x, data_format), dtype),
        _cast(kernel, dtype),
        _cast(_to_nhwc(grad_output, data_format), dtype),
        strides=_int_tuple(strides, 2, "strides"),
        padding=_choice(padding, _PADDINGS, "padding"),
        dilation_rate=_int_tuple(dilation_rate, 2, "dilation_rate"),
        input_grad=bool(input_grad),
    )
    return (None if dx is None else _from_nhwc(dx, data_format)), dw, db


# ---------------------------------------------------------------- pooling


def _pool_args(x, pool_size, strides, padding, data_format, rank: int):
    x = real_array(x, "x")
    data_format = _choice(data_format, _DATA_FORMATS, "data_format")
    _check_rank(x, rank + 2, "x", _layout(rank, data_format))
    pool = _int_tuple(pool_size, rank, "pool_size")
    step = pool if strides is None else _int_tuple(strides, rank, "strides")
    return x, pool, step, _choice(padding, _PADDINGS, "padding"), data_format


def _pool2d(forward, x, pool_size, strides, padding, data_format):
    x, pool, step, padding, data_format = _pool_args(x, pool_size, strides, padding, data_format, 2)
    nhwc = _cast(_to_nhwc(x, data_format), _compute_dtype(x))
    return _from_nhwc(forward(nhwc, pool, step, padding), data_format)


def _pool2d_backward(backward, x, grad_output, pool_size, strides, padding, data_format):
    x, pool, step, padding, data_format = _pool_args(x, pool_size, strides, padding, data_format, 2)
    grad_output = real_array(grad_output, "grad_output")
    _check_rank(grad_output, 4, "grad_output", _layout(2, data_format))
    dtype = _compute_dtype(x, grad_output)
    dx = backward(
        _cast(_to_nhwc(x, data_format), dtype),
        _cast(_to_nhwc(grad_output, data_format), dtype),
        pool,
        step,
        padding,
    )
    return _from_nhwc(dx, data_format)


def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_last"):
    """Max over each window; padded cells never win. strides=None means strides=pool_size."""
    return _pool2d(_core.max_pool2d_forward, x, pool_size, strides, padding, data_format)


def max_pool2d_backward(
    x, grad_output, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_last"
):
    """Gradient of max_pool2d: each window's gradient goes to its first maximum."""
    return _pool2d_backward(
        _core.max_pool2d_backward, x, grad_output, pool_size, strides, padding, data_format
    )


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_last"):
    """Mean over each window's in-image cells (padding is not counted)."""
    return _pool2d(_core.avg_pool2d_forward, x, pool_size, strides, padding, data_format)


def avg_pool2d_backward(
    x, grad_output, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_last"
):
    """Gradient of avg_pool2d."""
    return _pool2d_backward(
        _core.avg_pool2d_backward, x, grad_output, pool_size, strides, padding, data_format
    )


# ---------------------------------------------------------------- 1-D: a height-1 image


def _axis(data_format: str) -> int:
    """The axis that becomes height 1 when a 1-D array is viewed as 2-D."""
    return 2 if _choice(data_format, _DATA_FORMATS, "data_format") == "channels_first" else 1


def _checked_1d(x, name: str, data_format: str) -> np.ndarray:
    x = real_array(x, name)
    _check_rank(x, 3, name, _layout(1, _choice(data_format, _DATA_FORMATS, "data_format")))
    return x


def conv1d(
    x,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    dilation_rate=1,
    data_format="channels_last",
    activation=None,
) -> np.ndarray:
    """1-D cross-correlation. x: (N, L, C) (or (N, C, L)); kernel: (k, C, filters)."""
    x = _checked_1d(x, "x", data_format)
    kernel = real_array(kernel, "kernel")
    _check_rank(kernel, 3, "kernel", "(k, in_channels, filters)")
    axis = _axis(data_format)
    y = conv2d(
        np.expand_dims(x, axis),
        kernel[None],
        bias,
        strides=(1, *_int_tuple(strides, 1, "strides")),
        padding=padding,
        dilation_rate=(1, *_int_tuple(dilation_rate, 1, "dilation_rate")),
        data_format=data_format,
        activation=activation,
    )
    return y.squeeze(axis)


def conv1d_backward(
    x,
    kernel,
    grad_output,
    strides=1,
    padding="valid",
    dilation_rate=1,
    data_format="channels_last",
    input_grad=True,
):
    """Gradients of conv1d: (grad_x or None, grad_kernel, grad_bias)."""
    x = _checked_1d(x, "x", data_format)
    grad_output = _checked_1d(grad_output, "grad_output", data_format)
    kernel = real_array(kernel, "kernel")
    _check_rank(kernel, 3, "kernel", "(k, in_channels, filters)")
    axis = _axis(data_format)
    dx, dw, db = conv2d_backward(
        np.expand_dims(x, axis),
        kernel[None],
        np.expand_dims(grad_output, axis),
        strides=(1, *_int_tuple(strides, 1, "strides")),
        padding=padding,
        dilation_rate=(1, *_int_tuple(dilation_rate, 1, "dilation_rate")),
        data_format=data_format,
        input_grad=input_grad,
    )
    return (None if dx is None else dx.squeeze(axis)), dw[0], db


def _pool1d(pool2d, x, pool_size, strides, padding, data_format):
    x = _checked_1d(x, "x", data_format)
    axis = _axis(data_format)
    step = None if strides is None else (1, *_int_tuple(strides, 1, "strides"))
    y = pool2d(
        np.expand_dims(x, axis),
        (1, *_int_tuple(pool_size, 1, "pool_size")),
        step,
        padding,
        data_format,
    )
    return y.squeeze(axis)


def _pool1d_backward(pool2d_backward, x, grad_output, pool_size, strides, padding, data_format):
    x = _checked_1d(x, "x", data_format)
    grad_output = _checked_1d(grad_output, "grad_output", data_format)
    axis = _axis(data_format)
    step = None if strides is None else (1, *_int_tuple(strides, 1, "strides"))
    dx = pool2d_backward(
        np.expand_dims(x, axis),
        np.expand_dims(grad_output, axis),
        (1, *_int_tuple(pool_size, 1, "pool_size")),
        step,
        padding,
        data_format,
    )
    return dx.squeeze(axis)


def max_pool1d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """1-D max pooling on (N, L, C) (or (N, C, L))."""
    return _pool1d(max_pool2d, x, pool_size, strides, padding, data_format)


def max_pool1d_backward(
    x, grad_output, pool_size=2, strides=None, padding="valid", data_format="channels_last"
):
    """Gradient of max_pool1d."""
    return _pool1d_backward(
        max_pool2d_backward, x, grad_output, pool_size, strides, padding, data_format
    )


def avg_pool1d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """1-D average pooling on (N, L, C) (or (N, C, L))."""
    return _pool1d(avg_pool2d, x, pool_size, strides, padding, data_format)


def avg_pool1d_backward(
    x, grad_output, pool_size=2, strides=None, padding="valid", data_format="channels_last"
):
    """Gradient of avg_pool1d."""
    return _pool1d_backward(
        avg_pool2d_backward, x, grad_output, pool_size, strides, padding, data_format
    )


# ---------------------------------------------------------------- dense


def dense(x, kernel, bias=None, activation=None) -> np.ndarray:
    """x (N, in) . kernel (in, units) + bias (units,), with optional fused ReLU."""
    x = real_array(x, "x")
    kernel = real_array(kernel, "kernel")
    bias = None if bias is None else real_array(bias, "bias")
    _check_rank(x, 2, "x", "(N, in_features)")
    _check_rank(kernel, 2, "kernel", "(in_features, units)")
    if x.shape[1] != kernel.shape[0]:
        raise ValueError(
            f"dense: x features (x shape {x.shape}) must equal the kernel's input size "
            f"(kernel shape {kernel.shape})"
        )
    dtype = _compute_dtype(x, kernel, bias)
    return _core.matmul(
        _cast(x, dtype),
        _cast(kernel, dtype),
        None if bias is None else _cast(bias, dtype),
        relu=_activation(activation),
    )


def dense_backward(x, kernel, grad_output, input_grad=True):
    """Gradients of dense: (grad_x or None, grad_kernel, grad_bias)."""
    x = real_array(x, "x")
    kernel = real_array(kernel, "kernel")
    grad_output = real_array(grad_output, "grad_output")
    _check_rank(x, 2, "x", "(N, in_features)")
    _check_rank(kernel, 2, "kernel", "(in_features, units)")
    expected = (x.shape[0], kernel.shape[1])
    if grad_output.shape != expected:
        raise ValueError(f"grad_output must have shape {expected}, got {grad_output.shape}")
    dtype = _compute_dtype(x, kernel, grad_output)
    x, kernel, grad_output = _cast(x, dtype), _cast(kernel, dtype), _cast(grad_output, dtype)
    dx = _core.matmul(grad_output, kernel, trans_b=True) if input_grad else None
    dw = _core.matmul(x, grad_output, trans_a=True)
    return dx, dw, grad_output.sum(axis=0)
