"""2-D convolution and correlation of images, equal to scipy.signal.convolve2d / correlate2d.

Output pixel (i, j) of a correlation is sum over (a, b) of kernel[a, b] * image[i - pad_top + a,
j - pad_left + b]; convolution is the same with the kernel flipped on both axes (the lecture's
S(i, j) = sum_m sum_n I(i - m, j - n) K(m, n)). The modes fix the output size and the pads:

    mode     output               correlation pads          convolution pads
    full     (H + KH - 1, W + KW - 1)   (KH - 1, KW - 1)          (KH - 1, KW - 1)
    same     (H, W)               ((KH - 1) // 2, (KW - 1) // 2)   (KH // 2, KW // 2)
    valid    (H - KH + 1, W - KW + 1)   (0, 0)                    (0, 0)

so for even kernels in 'same' mode a correlation and a convolution with the flipped kernel sit
one pixel apart, exactly as in scipy. In 'valid' mode a kernel at least as large as the image on
both axes swaps roles with it, as scipy does; one larger on one axis only is an error.

Unlike scipy, the C++ core flushes denormals (below about 1.2e-38 in float32) to zero: see
cnnkit.ops.
"""

from __future__ import annotations

import numpy as np

from cnnkit import _filtering

__all__ = ["convolve2d", "correlate2d"]


def _image_and_kernel(image: object, kernel: object) -> tuple[np.ndarray, np.ndarray]:
    image = _filtering.real_array(image, "image")
    kernel = _filtering.real_array(kernel, "kernel")
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got shape {image.shape}")
    if kernel.ndim != 2:
        raise ValueError(f"kernel must have shape (KH, KW), got shape {kernel.shape}")
    dtype = _filtering.float_dtype(image)
    return image.astype(dtype, copy=False), kernel.astype(dtype, copy=False)


def _kernel_swaps_with_image(image_hw: tuple[int, ...], kernel_hw: tuple[int, ...]) -> bool:
    """scipy's 'valid' rule: True when the kernel contains the image but not the reverse."""
    image_contains = all(i >= k for i, k in zip(image_hw, kernel_hw))
    kernel_contains = all(k >= i for i, k in zip(image_hw, kernel_hw))
    if not (image_contains or kernel_contains):
        raise ValueError(
            "mode 'valid' needs the image or the kernel to be at least as large as the other on "
            f"both axes, got image {image_hw} and kernel {kernel_hw}"
        )
    return not image_contains


def _filter(image: object, kernel: object, mode: str, boundary: str, fillvalue: object,
            flip: bool) -> np.ndarray:
    image, kernel = _image_and_kernel(image, kernel)
    mode = _filtering.choice(mode, _filtering.MODES, "mode")
    boundary = _filtering.choice(boundary, _filtering.BOUNDARIES, "boundary")
    fill = _filtering.fill_number(fillvalue)
    planes = np.moveaxis(image, -1, 0) if image.ndim == 3 else image[None]
    (H, W), (KH, KW) = planes.shape[1:], kernel.shape

    if mode == "valid" and _kernel_swaps_with_image((H, W), (KH, KW)):
        # Each image plane slides over the kernel instead; scipy reverses a swapped correlation.
        out = np.stack([_filter(kernel, plane, "valid", "fill", 0, flip) for plane in planes])
        if not flip:
            out = out[:, ::-1, ::-1]
    else:
        if flip:
            kernel = kernel[::-1, ::-1]
        if mode == "full":
            shape, pads = (H + KH - 1, W + KW - 1), (KH - 1, KW - 1)
        elif mode == "same":
            shape = (H, W)
            pads = (KH // 2, KW // 2) if flip else ((KH - 1) // 2, (KW - 1) // 2)
        else:
            shape, pads = (H - KH + 1, W - KW + 1), (0, 0)
        out = _filtering.correlate_planes(planes, kernel, shape, pads, boundary, fill)
    return np.ascontiguousarray(np.moveaxis(out, 0, -1) if image.ndim == 3 else out[0])


def convolve2d(
    image: object,
    kernel: object,
    mode: str = "same",
    boundary: str = "fill",
    fillvalue: float = 0,
) -> np.ndarray:
    """True 2-D convolution (kernel flipped), equal to ``scipy.signal.convolve2d``.

    image: (H, W), or (H, W, C) filtered channel by channel; kernel: (KH, KW).
    mode: "full" | "same" | "valid" (table in the module docstring); boundary: how the image
    continues past its edges, "fill" (the constant fillvalue), "wrap" (periodic) or "symm"
    (mirrored, edge pixel repeated).

    dtype: a float64 image gives float64; float32, integer (e.g. uint8) and bool images give
    float32, with values unscaled (uint8 255 stays 255.0). The kernel is cast to that dtype.
    Any memory layout is accepted.
    """
    return _filter(image, kernel, mode, boundary, fillvalue, flip=True)


def correlate2d(
    image: object,
    kernel: object,
    mode: str = "same",
    boundary: str = "fill",
    fillvalue: float = 0,
) -> np.ndarray:
    """2-D cross-correlation (kernel not flipped), what a Conv2D layer computes; equal to
    ``scipy.signal.correlate2d``.

    Arguments, dtype and layout rules as in :func:`convolve2d`. For even kernels in 'same' mode
    the result sits one pixel off from convolving with the flipped kernel, as in scipy.
    """
    return _filter(image, kernel, mode, boundary, fillvalue, flip=False)
