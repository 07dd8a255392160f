"""Independent numpy float64 references for the ops: explicit padding and sliding windows.

Written from the padding rule in the API contract, not from the C++ code, so the two
implementations check each other.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' rule: the smaller half before, the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(x_hw, k_hw, strides, dilation, padding):
    if padding == "valid":
        return [(0, 0), (0, 0)]
    return [same_padding(x_hw[i], k_hw[i], strides[i], dilation[i]) for i in range(2)]


def _windows(x, k_hw, strides, dilation, pads, fill):
    """(N, OH, OW, C, KH, KW) windows of the NHWC array x padded with `fill`."""
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=fill)
    span = [dilation[i] * (k_hw[i] - 1) + 1 for i in range(2)]
    win = sliding_window_view(x, span, axis=(1, 2))
    return win[:, :: strides[0], :: strides[1], :, :: dilation[0], :: dilation[1]]


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation=(1, 1), relu=False):
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    pads = _pads(x.shape[1:3], kernel.shape[:2], strides, dilation, padding)
    win = _windows(x, kernel.shape[:2], strides, dilation, pads, 0.0)
    y = np.einsum("nhwcij,ijco->nhwo", win, kernel)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return np.maximum(y, 0) if relu else y


def max_pool2d(x, pool, strides, padding):
    x = np.asarray(x, np.float64)
    pads = _pads(x.shape[1:3], pool, strides, (1, 1), padding)
    win = _windows(x, pool, strides, (1, 1), pads, -np.inf)
    return win.max(axis=(-2, -1))


def avg_pool2d(x, pool, strides, padding):
    x = np.asarray(x, np.float64)
    pads = _pads(x.shape[1:3], pool, strides, (1, 1), padding)
    sums = _windows(x, pool, strides, (1, 1), pads, 0.0).sum(axis=(-2, -1))
    counts = _windows(np.ones_like(x[..., :1]), pool, strides, (1, 1), pads, 0.0).sum(
        axis=(-2, -1)
    )
    return sums / counts
