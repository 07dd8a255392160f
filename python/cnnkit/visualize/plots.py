"""Figures of what a network learned: filters, feature maps, top patches, training curves.

Every plot_* function returns a matplotlib Figure and, given ``path=``, also writes it
there as PNG; ``fig.savefig`` works as usual. Nothing is ever shown on screen. matplotlib
is imported only inside these functions (``pip install cnnkit[viz]``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from cnnkit.layers import Conv2D, Layer
from cnnkit.visualize._model import (
    LayerRef,
    input_channels_first,
    layer_index,
    model_layers,
    to_channels_last,
)
from cnnkit.visualize._plotting import finish, grid, new_figure, panels, show_image
from cnnkit.visualize.feature_maps import feature_maps
from cnnkit.visualize.receptive_field import receptive_field
from cnnkit.visualize.top_activations import top_activations

__all__ = ["plot_feature_maps", "plot_filters", "plot_history", "plot_top_activations"]

_PANEL_INCHES = 1.1
_NCOLS = 8
_GAP_COLOUR = "#4f7cb3"  # between and around patches: neither black nor white, unlike pixels


def plot_filters(
    layer: Layer,
    max_filters: int | None = None,
    max_channels: int = 8,
    path: str | os.PathLike | None = None,
) -> object:
    """The kernels of a Conv2D layer as images.

    A first layer (1 or 3 input channels) shows one panel per filter, in grey or colour. A
    deeper layer shows one row per filter and one panel per input channel (the first
    `max_channels`), red positive and blue negative on that filter's common scale. At most
    `max_filters` filters are drawn (default: 64 for a first layer, 16 for a deeper one).
    """
    if not isinstance(layer, Conv2D):
        raise ValueError(f"plot_filters draws the 2-D kernels of a Conv2D layer, got {layer!r}")
    if not layer.built:
        raise ValueError(f'layer "{layer.name}" is not built yet, so it has no kernel')
    kernel = layer.weights[0]  # (kh, kw, in_channels, filters)
    in_channels = kernel.shape[2]
    first_layer = in_channels in (1, 3)
    if max_filters is None:
        max_filters = 64 if first_layer else 16
    filters = min(kernel.shape[3], max_filters)
    if first_layer:
        rows, columns = grid(filters, _NCOLS)
        figure = new_figure("plot_filters", columns * _PANEL_INCHES, rows * _PANEL_INCHES + 0.4)
        for f, ax in enumerate(panels(figure, filters, _NCOLS)):
            show_image(ax, kernel[:, :, :, f])
            ax.set_title(str(f), fontsize=7)
    else:
        channels = min(in_channels, max_channels)
        figure = new_figure(
            "plot_filters", channels * _PANEL_INCHES, filters * _PANEL_INCHES * 0.9 + 0.4
        )
        for index, ax in enumerate(panels(figure, filters * channels, channels)):
            f, c = divmod(index, channels)
            scale = np.abs(kernel[:, :, :, f]).max() or 1.0
            show_image(ax, kernel[:, :, c, f], cmap="RdBu_r", vmin=-scale, vmax=scale)
            if f == 0:
                ax.set_title(f"in {c}", fontsize=7)
            if c == 0:
                ax.set_ylabel(f"filter {f}", fontsize=7)
    figure.suptitle(f"{layer.name}: {kernel.shape[0]}x{kernel.shape[1]} kernels")
    return finish(figure, path)


def _one_sample(model: object, x: object) -> np.ndarray:
    """x as a batch of one: a single input, with or without its batch axis."""
    data = np.asarray(x)
    if model.built and data.ndim == len(model.input_shape) - 1:
        data = data[None]
    if data.ndim < 2 or data.shape[0] != 1:
        raise ValueError(
            "plot_feature_maps shows one input: x must be a single sample or a batch of one, "
            f"got shape {data.shape}"
        )
    return data


def plot_feature_maps(
    model: object,
    x: object,
    layers: LayerRef | Sequence[LayerRef] | None = None,
    max_maps: int = 32,
    path: str | os.PathLike | None = None,
) -> object:
    """The input and, for each layer (default: every conv and pooling layer), its first
    `max_maps` feature maps for that one input, each map on its own colour scale."""
    data = _one_sample(model, x)
    maps = feature_maps(model, data, layers)
    by_name = {layer.name: layer for layer in model_layers(model)}
    blocks = []
    for name, output in maps.items():
        if output.ndim != 4:
            raise ValueError(
                f'plot_feature_maps draws 2-D feature maps; layer "{name}" outputs shape '
                f"{output.shape}"
            )
        blocks.append((name, to_channels_last(by_name[name], output)[0]))
    rows = [1] + [grid(min(m.shape[-1], max_maps), _NCOLS)[0] for _, m in blocks]
    figure = new_figure("plot_feature_maps", _NCOLS * _PANEL_INCHES, sum(rows) * 1.3 + 0.3)
    parts = figure.subfigures(len(rows), 1, height_ratios=rows, squeeze=False)[:, 0]

    sample = np.moveaxis(data[0], 0, -1) if input_channels_first(model) else data[0]
    (ax,) = panels(parts[0], 1, 1)
    show_image(ax, sample)
    parts[0].suptitle("input", fontsize=9)
    for part, (name, output) in zip(parts[1:], blocks):
        count = min(output.shape[-1], max_maps)
        for c, ax in enumerate(panels(part, count, _NCOLS)):
            ax.imshow(output[..., c], cmap="viridis", interpolation="nearest")
            ax.set_title(str(c), fontsize=7)
        part.suptitle(
            f"{name}: {output.shape[-1]} maps of {output.shape[0]}x{output.shape[1]}", fontsize=9
        )
    return finish(figure, path)


def _mosaic(entries: list[dict], field: dict, channels_first: bool) -> np.ndarray:
    """The patches of one feature map side by side on a square grid; each patch sits where it
    lies in its receptive field, so border patches keep their alignment. Background is NaN."""
    size_h, size_w = field["size"]
    side = math.ceil(math.sqrt(len(entries)))
    patches = [np.moveaxis(e["patch"], 0, -1) if channels_first else e["patch"] for e in entries]
    depth = patches[0].shape[-1]
    cell_h, cell_w = size_h + 1, size_w + 1  # one pixel of background between patches
    mosaic = np.full((side * cell_h - 1, side * cell_w - 1, depth), np.nan)
    for n, (entry, patch) in enumerate(zip(entries, patches)):
        top = max(0, -(field["start"][0] + entry["position"][0] * field["jump"][0]))
        left = max(0, -(field["start"][1] + entry["position"][1] * field["jump"][1]))
        row, col = divmod(n, side)
        y, x = row * cell_h + top, col * cell_w + left
        mosaic[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    return mosaic


def _show_mosaic(ax: object, mosaic: np.ndarray, low: float, high: float) -> None:
    """Colour for 3 channels, else grey; `low`..`high` spans the data; NaN shows the gap."""
    ax.set_facecolor(_GAP_COLOUR)
    background = np.isnan(mosaic).any(axis=-1)
    if mosaic.shape[-1] == 3:
        rgb = np.clip((np.nan_to_num(mosaic) - low) / (high - low or 1.0), 0.0, 1.0)
        rgba = np.concatenate([rgb, (~background)[..., None].astype(float)], axis=-1)
        ax.imshow(rgba, interpolation="nearest")
        return
    grey = np.ma.masked_array(np.nan_to_num(mosaic).mean(axis=-1), mask=background)
    ax.imshow(grey, cmap="gray", vmin=low, vmax=high, interpolation="nearest")


def plot_top_activations(
    model: object,
    layer: LayerRef,
    x: object,
    k: int = 9,
    max_maps: int | None = 32,
    batch_size: int = 256,
    path: str | os.PathLike | None = None,
) -> object:
    """One panel per feature map of `layer` (the first `max_maps`; None for all): the k input
    patches that activate it most over x (see top_activations), highest first, row by row,
    on the common grey scale of x."""
    top = top_activations(model, layer, x, k=k, batch_size=batch_size)
    target = model_layers(model)[layer_index(model, layer)]
    field = receptive_field(model, layer)
    if len(field["size"]) != 2:
        raise ValueError(f'plot_top_activations draws 2-D patches; "{target.name}" is 1-D')
    data = np.asarray(x)
    low, high = float(data.min()), float(data.max())
    count = len(top) if max_maps is None else min(len(top), max_maps)
    rows, columns = grid(count, _NCOLS)
    figure = new_figure("plot_top_activations", columns * 1.5, rows * 1.6 + 0.4)
    channels_first = input_channels_first(model)
    for c, ax in enumerate(panels(figure, count, _NCOLS)):
        mosaic = _mosaic(top[c], field, channels_first)
        _show_mosaic(ax, mosaic, low, high)
        ax.set_title(f"map {c}", fontsize=7)
    figure.suptitle(
        f"{target.name}: top {k} patches per map ({field['size'][0]}x{field['size'][1]} "
        f"receptive field), over {len(data)} inputs"
    )
    return finish(figure, path)


def plot_history(history: object, path: str | os.PathLike | None = None) -> object:
    """Training curves from fit's History (or its .history dict): one panel per quantity
    (loss, accuracy, ...), the training values and their validation twins per epoch."""
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or not values:
        raise ValueError(
            "plot_history needs the History returned by fit (or its non-empty .history dict), "
            f"got {history!r}"
        )
    names = [key for key in values if not key.startswith("val_")]
    names += [key[4:] for key in values if key.startswith("val_") and key[4:] not in values]
    names.sort(key=lambda name: name != "loss")  # the loss first, then fit's order
    figure = new_figure("plot_history", 4.0 * len(names), 3.2)
    for index, name in enumerate(names):
        ax = figure.add_subplot(1, len(names), index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key in values:
                series = list(values[key])
                ax.plot(range(1, len(series) + 1), series, marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(figure, path)
