"""feature_maps: what each layer outputs for a batch, from a single forward pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnkit.visualize._model import LayerRef, forward_collect, model_layers, resolve_layers

__all__ = ["feature_maps"]


def feature_maps(
    model: object,
    x: object,
    layers: LayerRef | Sequence[LayerRef] | None = None,
) -> dict[str, np.ndarray]:
    """Layer name -> that layer's output for the batch x (inference mode: no dropout).

    `layers` are names, indices or layer objects of `model` (default: every convolution and
    windowed pooling layer), kept in the order given. The network runs once, up to the
    deepest layer requested. Outputs keep the layer's own layout: (N, H, W, C) for
    channels_last, (N, C, H, W) for channels_first, (N, L, C) for 1-D layers.
    """
    indices = resolve_layers(model, layers)
    outputs = forward_collect(model, x, indices)
    all_layers = model_layers(model)
    return {all_layers[index].name: outputs[index] for index in indices}
