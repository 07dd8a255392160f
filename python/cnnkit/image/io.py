"""Reading and writing images as float32 arrays in [0, 1], through Pillow.

Grayscale images are (H, W); colour images (H, W, C) with C = 3 (RGB) or 4 (RGBA, the alpha
kept as a fourth channel), and grayscale with alpha (H, W, 2). 8-bit images are divided by 255
and 16-bit grayscale PNGs by 65535. Pillow reads 16-bit colour PNGs at 8-bit precision, so they
load to within 1/255 of their exact values. Palette images become RGB (RGBA when they have a
transparent colour); other colour spaces (CMYK, YCbCr, ...) are converted to RGB.
"""

from __future__ import annotations

import os
from typing import Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from cnnkit import _filtering

__all__ = ["NORMALIZE_MODES", "load", "save"]

PathLike = Union[str, "os.PathLike[str]"]

NORMALIZE_MODES = ("clip", "minmax", "abs")
_WRITABLE = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
_KEPT_MODES = ("L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N", "I")
_MODE_CONVERSIONS = {"1": "L", "La": "LA", "PA": "RGBA", "RGBa": "RGBA", "RGBX": "RGB"}


def _standard_mode(image: Image.Image) -> Image.Image:
    """The image in one of the modes load() turns into arrays."""
    if image.mode in _KEPT_MODES:
        return image
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "F":
        raise ValueError("floating-point images (mode 'F') are not supported; use 8- or 16-bit")
    return image.convert(_MODE_CONVERSIONS.get(image.mode, "RGB"))


def load(path: PathLike) -> np.ndarray:
    """The image at path as a float32 array in [0, 1]: (H, W) grayscale, (H, W, C) colour.

    FileNotFoundError when the file does not exist; ValueError when it is not an image Pillow
    can decode, or has an unsupported pixel format.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image file not found: {path!r}")
    try:
        with Image.open(path) as image:
            image.load()
            pixels = np.asarray(_standard_mode(image))
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"cannot read image {path!r}: {error}") from error
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / np.float32(255)
    # 16-bit grayscale: uint16, or int32 on Pillow versions that read it as mode 'I'.
    if pixels.min() < 0 or pixels.max() > 65535:
        raise ValueError(f"cannot read image {path!r}: 32-bit integer pixels are not supported")
    return pixels.astype(np.float32) / np.float32(65535)


def _intensities(array: np.ndarray, normalize: str) -> np.ndarray:
    """array mapped to [0, 1] (float64) by the normalize rule of save()."""
    if array.dtype == np.uint8:
        values = array / 255.0
    elif array.dtype == np.uint16:
        values = array / 65535.0
    else:
        values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("array must not contain NaN or infinity")
    if normalize == "abs":
        values = np.abs(values)
    if normalize in ("minmax", "abs"):
        low = values.min() if normalize == "minmax" else 0.0
        span = values.max() - low
        values = (values - low) / span if span > 0 else np.zeros_like(values)
    return np.clip(values, 0.0, 1.0)


def save(path: PathLike, array: object, normalize: str = "clip") -> None:
    """Writes array as an 8-bit PNG or JPEG (chosen by the file extension).

    array: (H, W) or (H, W, 1) grayscale, (H, W, 2) grayscale + alpha, (H, W, 3) RGB or
    (H, W, 4) RGBA (PNG only for alpha). Float, int and bool values are intensities in [0, 1];
    uint8 and uint16 arrays are 8- and 16-bit intensities (divided by 255 and 65535).

    normalize: how values reach [0, 1]:
      "clip"    (default) values below 0 become 0 and above 1 become 1;
      "minmax"  the range [min, max] of the whole array is stretched to [0, 1], for any
                response whose range is not [0, 1] (EMBOSS, SOBEL_X: zero becomes a grey);
      "abs"     |value| / max |value|: edges of either sign appear bright on black, the usual
                way to show an EDGE or SOBEL response.
    A constant array normalizes to black under "minmax" and "abs".
    """
    path = os.fspath(path)
    normalize = _filtering.choice(normalize, NORMALIZE_MODES, "normalize")
    extension = os.path.splitext(path)[1].lower()
    if extension not in _WRITABLE:
        raise ValueError(f"path must end in .png, .jpg or .jpeg, got {path!r}")
    pixels = _filtering.real_array(array, "array")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (2, 3, 4))):
        raise ValueError(
            f"array must have shape (H, W) or (H, W, C) with C in 1..4, got shape {pixels.shape}"
        )
    image_format = _WRITABLE[extension]
    if image_format == "JPEG" and pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        raise ValueError(
            f"JPEG cannot store an alpha channel (array shape {pixels.shape}); save as .png"
        )
    levels = np.rint(_intensities(pixels, normalize) * 255).astype(np.uint8)
    Image.fromarray(levels).save(path, format=image_format)
