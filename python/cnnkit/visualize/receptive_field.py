"""Receptive fields: which input pixels a unit of a convolution or pooling layer can see.

Walking the layers from the input, each axis keeps three numbers: `size` (input pixels one
unit spans), `jump` (input pixels between neighbouring units) and `start` (the input row of
unit 0's first pixel). A window of k taps with dilation d spans d*(k-1)+1 positions of its
input; with stride s and p rows of padding on top:

    size'  = size + (d*(k-1)) * jump
    jump'  = jump * s
    start' = start - p * jump

'same' padding follows API.md's rule (the smaller half on top/left), so `start` turns
negative where the padding reaches outside the image. Dilation makes a unit skip input
pixels inside its span; `size` is the span, as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnkit.layers import (
    Activation,
    BatchNormalization,
    Dropout,
    InputLayer,
    Layer,
    ReLU,
    Softmax,
)
from cnnkit.visualize._model import CONV_LAYERS, POOL_LAYERS, LayerRef, layer_index, model_layers

__all__ = ["WindowGeometry", "receptive_field", "receptive_fields", "window_geometry"]

# Layers that change values but never move them between positions.
_POSITION_PRESERVING = (Activation, BatchNormalization, Dropout, InputLayer, ReLU, Softmax)


@dataclass(frozen=True)
class WindowGeometry:
    """A sliding window as one layer applies it, one entry per spatial axis."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_before: tuple[int, ...]  # rows (columns) of padding actually added on top (left)
    pad_after: tuple[int, ...]  # ... and on the bottom (right)


def _spatial(shape: tuple, layer: Layer) -> tuple[int, ...]:
    is_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    return tuple(shape[2:]) if is_first else tuple(shape[1:-1])


def window_geometry(layer: Layer) -> WindowGeometry | None:
    """The window of a convolution or pooling layer, None for a layer that keeps positions
    (activation, dropout, normalization); ValueError for a layer that mixes positions."""
    if isinstance(layer, _POSITION_PRESERVING):
        return None
    if not isinstance(layer, CONV_LAYERS + POOL_LAYERS):
        raise ValueError(
            f'layer "{layer.name}" ({type(layer).__name__}) has no receptive field: its output '
            "is not laid out over input positions (only convolution and pooling layers, and "
            "the activation/dropout/normalization layers between them, have one)"
        )
    if not layer.built:
        raise ValueError(
            f'layer "{layer.name}" is not built: build the model (give the first layer an '
            "input_shape, or call model.build) so the padding of each layer is known"
        )
    if isinstance(layer, CONV_LAYERS):
        kernel, dilation = layer.kernel_size, layer.dilation_rate
    else:
        kernel, dilation = layer.pool_size, (1,) * len(layer.pool_size)
    before, after = [], []
    for n_in, n_out, k, s, d in zip(
        _spatial(layer.input_shape, layer),
        _spatial(layer.output_shape, layer),
        kernel,
        layer.strides,
        dilation,
    ):
        total = max((n_out - 1) * s + d * (k - 1) + 1 - n_in, 0) if layer.padding == "same" else 0
        before.append(total // 2)
        after.append(total - total // 2)
    return WindowGeometry(kernel, layer.strides, dilation, tuple(before), tuple(after))


def _stack_fields(layers: list[Layer], rank: int) -> list[dict | None]:
    """The receptive field after each layer; None from the first layer that mixes positions."""
    size, jump, start = [1] * rank, [1] * rank, [0] * rank
    fields: list[dict | None] = []
    for layer in layers:
        try:
            geometry = window_geometry(layer)
        except ValueError:
            fields += [None] * (len(layers) - len(fields))
            break
        if geometry is not None:
            for axis in range(rank):
                span = geometry.dilation[axis] * (geometry.kernel[axis] - 1)
                start[axis] -= geometry.pad_before[axis] * jump[axis]
                size[axis] += span * jump[axis]
                jump[axis] *= geometry.strides[axis]
        fields.append({"size": tuple(size), "jump": tuple(jump), "start": tuple(start)})
    return fields


def _input_rank(model: object) -> int:
    shape = getattr(model, "input_shape", None)
    if shape is None:
        raise ValueError(
            "the model is not built: give the first layer an input_shape or call model.build"
        )
    return len(shape) - 2


def receptive_fields(model: object) -> list[dict | None]:
    """receptive_field for every layer of the model, None where a layer has none."""
    return _stack_fields(model_layers(model), _input_rank(model))


def receptive_field(model: object, layer: LayerRef) -> dict[str, tuple[int, ...]]:
    """{"size", "jump", "start"}, each a tuple over the spatial axes ((h, w) for 2-D layers,
    (length,) for 1-D ones): unit (i, j) of `layer` sees input rows start_h + i*jump_h ...
    start_h + i*jump_h + size_h - 1, and likewise columns.

    `layer` is a name, an index or a layer object of `model`. ValueError for a layer whose
    output is not laid out over input positions (Dense, Flatten, global pooling) or that
    comes after one.
    """
    layers = model_layers(model)
    index = layer_index(model, layer)
    for earlier in layers[: index + 1]:
        window_geometry(earlier)  # raises with that layer's name if it has no receptive field
    field = _stack_fields(layers[: index + 1], _input_rank(model))[index]
    assert field is not None  # every layer up to index passed window_geometry
    return field
