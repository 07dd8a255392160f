"""top_activations: the input patches that excite each feature map most (Zeiler and Fergus).

The data streams through the network in batches. Each feature map keeps only its running
top k (value, unit) pairs, so memory stays at k per channel whatever the size of x. Units
are ordered by value, highest first, and equal values by their position in the data
(sample, then row, then column), so the answer does not depend on the batch size.
"""

from __future__ import annotations

import math

import numpy as np

from cnnkit.visualize._model import (
    LayerRef,
    forward_collect,
    input_channels_first,
    layer_index,
    model_layers,
    to_channels_last,
)
from cnnkit.visualize.receptive_field import receptive_field

__all__ = ["top_activations"]


def _top_k_per_row(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest entries of each row, ties to the lower index.

    argpartition finds the k-th largest value in linear time; every entry above it belongs
    to the top k, and the remaining places go to the first entries equal to it.
    """
    n = values.shape[1]
    if n <= k:
        return np.tile(np.arange(n), (values.shape[0], 1))
    kth_position = np.argpartition(values, n - k, axis=1)[:, n - k]
    kth = values[np.arange(values.shape[0]), kth_position][:, None]
    chosen = np.empty((values.shape[0], k), dtype=np.int64)
    for row, (above, equal) in enumerate(zip(values > kth, values == kth)):
        greater = np.flatnonzero(above)
        chosen[row] = np.concatenate([greater, np.flatnonzero(equal)[: k - len(greater)]])
    return chosen


def _merge(
    best_values: np.ndarray, best_units: np.ndarray, values: np.ndarray, units: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of two candidate sets per channel, sorted: value down, unit number up."""
    values = np.concatenate([best_values, values], axis=1)
    units = np.concatenate([best_units, units], axis=1)
    order = np.lexsort((units, -values), axis=1)[:, :k]
    return np.take_along_axis(values, order, 1), np.take_along_axis(units, order, 1)


def _check_arguments(x: np.ndarray, k: object, batch_size: object) -> None:
    for name, value in (("k", k), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {name}={value!r}")
    if x.ndim < 3 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of inputs, got shape {x.shape}")


def top_activations(
    model: object,
    layer: LayerRef,
    x: object,
    k: int = 9,
    batch_size: int = 256,
) -> list[list[dict]]:
    """For each channel of `layer`, the k units over all of x with the highest activation.

    Returns one list per channel, each of k dicts, highest first: "index" (the sample in x),
    "position" ((i, j) in the layer's output, (i,) for 1-D layers), "value" (the activation)
    and "patch" (x[index] cropped to that unit's receptive field, clipped at the image
    border, in x's own layout and dtype). `layer` is a name, index or layer object of a
    convolution or pooling layer; x is processed batch_size samples at a time.
    """
    data = np.asarray(x)
    _check_arguments(data, k, batch_size)
    index = layer_index(model, layer)
    target = model_layers(model)[index]
    if not model.built:
        model.build(data.shape)
    field = receptive_field(model, index)
    channels = _channels(target)
    units_per_sample = math.prod(target.output_shape[1:]) // channels
    if k > len(data) * units_per_sample:
        raise ValueError(
            f"k={k} exceeds the {len(data) * units_per_sample} units each feature map of "
            f'"{target.name}" has over x ({len(data)} samples, output shape '
            f"{target.output_shape})"
        )

    best_values = np.empty((channels, 0))
    best_units = np.empty((channels, 0), dtype=np.int64)
    for begin in range(0, len(data), batch_size):
        output = forward_collect(model, data[begin : begin + batch_size], [index])[index]
        y = to_channels_last(target, output)
        values = y.reshape(-1, y.shape[-1]).T  # (channels, units of this batch)
        chosen = _top_k_per_row(values, k)
        best_values, best_units = _merge(
            best_values,
            best_units,
            np.take_along_axis(values, chosen, 1).astype(np.float64),
            chosen + begin * units_per_sample,
            k,
        )
    spatial = y.shape[1:-1]
    layout_first = input_channels_first(model)
    return [
        [
            _describe(data, int(unit), float(value), spatial, field, layout_first)
            for value, unit in zip(values, units)
        ]
        for values, units in zip(best_values, best_units)
    ]


def _channels(layer: object) -> int:
    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    return layer.output_shape[1] if first else layer.output_shape[-1]


def _describe(
    data: np.ndarray, unit: int, value: float, spatial: tuple, field: dict, channels_first: bool
) -> dict:
    """The result entry for a unit numbered in (sample, row, column) order."""
    sample, position = divmod(unit, math.prod(spatial))
    position = tuple(int(p) for p in np.unravel_index(position, spatial))
    return {
        "index": sample,
        "position": position,
        "value": value,
        "patch": crop_patch(data[sample], position, field, channels_first),
    }


def crop_patch(
    sample: np.ndarray, position: tuple[int, ...], field: dict, channels_first: bool
) -> np.ndarray:
    """The part of one input (no batch axis) that the unit at `position` sees, clipped at
    the border."""
    index: list[slice] = [slice(None)] * sample.ndim
    offset = 1 if channels_first else 0
    for axis, (p, size, jump, start) in enumerate(
        zip(position, field["size"], field["jump"], field["start"])
    ):
        first = start + p * jump
        length = sample.shape[axis + offset]
        index[axis + offset] = slice(max(first, 0), min(first + size, length))
    return sample[tuple(index)].copy()
