"""Shared plumbing of the plot_* functions: the optional matplotlib import, grids, saving.

Figures are made with ``matplotlib.figure.Figure`` directly rather than through pyplot:
no GUI backend is touched, nothing is shown, pyplot keeps no reference (so figures are
freed when dropped), and ``fig.savefig`` renders PNG with Agg.
"""

from __future__ import annotations

import math
import os

import numpy as np

INSTALL_HINT = "pip install cnnkit[viz]"


def new_figure(function: str, width: float, height: float) -> object:
    """An empty matplotlib Figure, or ImportError telling how to install matplotlib."""
    try:
        # The package itself first: a cached matplotlib.figure must not hide its absence.
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"{function} draws with matplotlib, an optional dependency of cnnkit; "
            f"install it with: {INSTALL_HINT}"
        ) from error
    return Figure(figsize=(width, height), layout="constrained")


def grid(count: int, ncols: int) -> tuple[int, int]:
    """(rows, columns) of a grid holding `count` panels, at most `ncols` per row."""
    columns = max(1, min(count, ncols))
    return math.ceil(count / columns), columns


def panels(figure: object, count: int, ncols: int) -> list:
    """`count` image axes on a grid, without ticks; the unused cells of the grid get none."""
    rows, columns = grid(count, ncols)
    axes = []
    for index in range(count):
        ax = figure.add_subplot(rows, columns, index + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        axes.append(ax)
    return axes


def normalize(image: np.ndarray) -> np.ndarray:
    """Scaled to [0, 1] (a constant image becomes 0.5), for RGB display."""
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    if high == low:
        return np.full_like(image, 0.5)
    return (image - low) / (high - low)


def show_image(ax: object, image: np.ndarray, **kwargs: object) -> None:
    """A (H, W) array in grey or an (H, W, 3) array in colour; other channel counts are
    averaged to grey."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        ax.imshow(normalize(image), interpolation="nearest")
        return
    if image.ndim == 3:
        image = image.mean(axis=-1)
    ax.imshow(image, cmap=kwargs.pop("cmap", "gray"), interpolation="nearest", **kwargs)


def finish(figure: object, path: str | os.PathLike | None) -> object:
    """Saves the figure as PNG when a path is given; returns it either way."""
    if path is not None:
        figure.savefig(os.fspath(path), format="png", dpi=100)
    return figure
