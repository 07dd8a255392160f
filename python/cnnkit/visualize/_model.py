"""What the visualizations need from a Sequential model, built on the layers' public API.

Picking layers by name, index or object; running the network once up to the deepest layer
asked for; and telling where the spatial and channel axes of a layer's output are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from cnnkit.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Layer,
    MaxPooling1D,
    MaxPooling2D,
)

LayerRef = Union[str, int, Layer]

CONV_LAYERS = (Conv1D, Conv2D)
POOL_LAYERS = (MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D)


def model_layers(model: object) -> list[Layer]:
    """The model's layers, or TypeError when `model` is not a layer stack."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not all(isinstance(layer, Layer) for layer in layers):
        raise TypeError(
            f"model must be a cnnkit Sequential model, got {type(model).__name__}: {model!r}"
        )
    if not layers:
        raise ValueError(f'model "{getattr(model, "name", model)}" has no layers')
    return layers


def layer_index(model: object, ref: LayerRef) -> int:
    """Position in model.layers of a layer given by name, index (negative allowed) or object."""
    layers = model_layers(model)
    names = [layer.name for layer in layers]
    if isinstance(ref, Layer):
        for index, layer in enumerate(layers):
            if layer is ref:
                return index
        raise ValueError(f'layer "{ref.name}" is not part of this model; its layers are {names}')
    if isinstance(ref, str):
        if ref not in names:
            raise ValueError(f'No layer named "{ref}" in the model; its layers are {names}')
        return names.index(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if not -len(layers) <= ref < len(layers):
            raise ValueError(
                f"layer index {ref} is out of range for a model with {len(layers)} layers"
            )
        return int(ref) % len(layers)
    raise TypeError(f"a layer is given by name, index or layer object, got {type(ref).__name__}")


def resolve_layers(model: object, refs: LayerRef | Sequence[LayerRef] | None) -> list[int]:
    """Indices of the requested layers in the order given (default: every conv and pooling
    layer), each once."""
    layers = model_layers(model)
    if refs is None:
        spatial = CONV_LAYERS + POOL_LAYERS
        indices = [i for i, layer in enumerate(layers) if isinstance(layer, spatial)]
        if not indices:
            raise ValueError("the model has no convolution or pooling layer; pass `layers`")
        return indices
    if isinstance(refs, (str, int, np.integer, Layer)):
        refs = [refs]
    indices = []
    for ref in refs:
        index = layer_index(model, ref)
        if index not in indices:
            indices.append(index)
    if not indices:
        raise ValueError("layers is empty; pass None for every conv and pooling layer")
    return indices


def forward_collect(model: object, x: object, indices: Sequence[int]) -> dict[int, np.ndarray]:
    """Outputs of the layers at `indices` for the batch x, from one inference pass that stops
    at the deepest of them."""
    layers = model_layers(model)
    x = model.check_input(x)
    wanted = set(indices)
    outputs: dict[int, np.ndarray] = {}
    for index, layer in enumerate(layers[: max(indices) + 1]):
        x = layer.call(x, training=False)
        if index in wanted:
            outputs[index] = x
    return outputs


def spatial_rank(layer: Layer) -> int:
    """Spatial dims of the layer's output (2 for (N, H, W, C), 1 for (N, L, C))."""
    return len(layer.output_shape) - 2


def channels_first(layer: Layer) -> bool:
    return getattr(layer, "data_format", "channels_last") == "channels_first"


def to_channels_last(layer: Layer, y: np.ndarray) -> np.ndarray:
    """The layer's output with the channels on the last axis."""
    return np.moveaxis(y, 1, -1) if channels_first(layer) else y


def input_channels_first(model: object) -> bool:
    """Whether the model's input puts channels first: the first layer with a data_format says."""
    for layer in model_layers(model):
        if hasattr(layer, "data_format"):
            return channels_first(layer)
    return False
