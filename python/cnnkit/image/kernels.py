"""Classical image kernels: the lecture's blur, edge and emboss, and a few standard others.

The named kernels are read-only float64 (3, 3) arrays, shared by everyone who imports them;
copy one (``kernels.EDGE.copy()``) to modify it. ``gaussian`` and ``box`` build new arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BLUR",
    "EDGE",
    "EMBOSS",
    "IDENTITY",
    "SHARPEN",
    "SOBEL_X",
    "SOBEL_Y",
    "box",
    "gaussian",
    "get",
    "names",
]


def _read_only(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    array = np.array(rows, dtype=np.float64) * scale
    array.setflags(write=False)
    return array


BLUR = _read_only([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16)  # a small Gaussian, sums to 1
EDGE = _read_only([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])  # Laplacian-like, sums to 0
EMBOSS = _read_only([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])  # raised relief lit from bottom right
SHARPEN = _read_only([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
SOBEL_X = _read_only([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])  # horizontal gradient
SOBEL_Y = _read_only([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])  # vertical gradient (SOBEL_X.T)
IDENTITY = _read_only([[0, 0, 0], [0, 1, 0], [0, 0, 0]])

_NAMED = {
    "blur": BLUR,
    "edge": EDGE,
    "emboss": EMBOSS,
    "sharpen": SHARPEN,
    "sobel_x": SOBEL_X,
    "sobel_y": SOBEL_Y,
    "identity": IDENTITY,
}


def names() -> tuple[str, ...]:
    """The names :func:`get` accepts."""
    return tuple(_NAMED)


def get(name: str) -> np.ndarray:
    """The named kernel ("blur", "edge", "emboss", "sharpen", "sobel_x", "sobel_y",
    "identity"), read-only; ValueError listing the names for any other."""
    if not isinstance(name, str) or name not in _NAMED:
        raise ValueError(f"unknown kernel {name!r}; known kernels: {', '.join(_NAMED)}")
    return _NAMED[name]


def _positive_size(size: object) -> int:
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    return int(size)


def gaussian(size: int, sigma: float) -> np.ndarray:
    """A (size, size) Gaussian kernel centred on the middle, normalised to sum to 1.

    Weights are exp(-(dy^2 + dx^2) / (2 sigma^2)) with dy, dx measured from the centre
    ((size - 1) / 2, so even sizes are centred between pixels). sigma > 0.
    """
    size = _positive_size(size)
    if not isinstance(sigma, (int, float, np.integer, np.floating)) or not sigma > 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    profile = np.exp(-(offsets**2) / (2.0 * float(sigma) ** 2))
    kernel = np.outer(profile, profile)
    return kernel / kernel.sum()


def box(size: int) -> np.ndarray:
    """A (size, size) mean filter: every weight 1 / size^2."""
    size = _positive_size(size)
    return np.full((size, size), 1.0 / size**2)
