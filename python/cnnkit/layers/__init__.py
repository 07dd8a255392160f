"""Keras-compatible layers; ``serialize``/``deserialize`` turn them into JSON-able configs."""

from __future__ import annotations

from cnnkit.layers.activation_layers import ReLU, Softmax
from cnnkit.layers.base import Layer, reset_names
from cnnkit.layers.conv import Conv1D, Conv2D
from cnnkit.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape
from cnnkit.layers.normalization import BatchNormalization
from cnnkit.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

__all__ = [
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "MaxPooling1D",
    "MaxPooling2D",
    "ReLU",
    "Reshape",
    "Softmax",
    "deserialize",
    "reset_names",
    "serialize",
]

_REGISTRY: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Activation,
        AveragePooling1D,
        AveragePooling2D,
        BatchNormalization,
        Conv1D,
        Conv2D,
        Dense,
        Dropout,
        Flatten,
        GlobalAveragePooling2D,
        GlobalMaxPooling2D,
        InputLayer,
        MaxPooling1D,
        MaxPooling2D,
        ReLU,
        Reshape,
        Softmax,
    )
}


def serialize(layer: Layer) -> dict:
    """{"class_name": ..., "config": ...}, enough for deserialize to rebuild the layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict) -> Layer:
    """The layer that serialize described; only cnnkit's own layer classes are accepted."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name', got {config!r}")
    class_name = config["class_name"]
    if class_name not in _REGISTRY:
        raise ValueError(f"Unknown layer class {class_name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[class_name].from_config(dict(config.get("config", {})))
