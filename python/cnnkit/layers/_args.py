"""Argument checks and the output-size rule shared by convolution and pooling layers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_DATA_FORMATS = ("channels_last", "channels_first")
_PADDINGS = ("valid", "same")


def int_tuple(value: int | Sequence[int], rank: int, name: str) -> tuple[int, ...]:
    """An int (repeated) or `rank` positive ints; Keras-style error otherwise."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a positive int or a tuple of "
            f"{rank} positive ints. Received {name}={value!r}"
        )
    return tuple(int(v) for v in values)


def data_format(value: str | None) -> str:
    """None means channels_last, Keras's default image_data_format."""
    if value is None:
        return "channels_last"
    if value not in _DATA_FORMATS:
        raise ValueError(
            f"Invalid value for argument `data_format`: expected one of {_DATA_FORMATS}. "
            f"Received data_format={value!r}"
        )
    return value


def padding(value: str) -> str:
    text = value.lower() if isinstance(value, str) else value
    if text not in _PADDINGS:
        raise ValueError(
            f"Invalid value for argument `padding`: expected one of {_PADDINGS}. "
            f"Received padding={value!r}"
        )
    return text


def output_length(length: int, window: int, stride: int, pad: str, dilation: int = 1) -> int:
    """The padding rule of API.md: 'valid' floor((in - d*(k-1) - 1)/s) + 1, 'same' ceil(in/s)."""
    if pad == "same":
        return math.ceil(length / stride)
    return (length - dilation * (window - 1) - 1) // stride + 1


def spatial_axes(rank: int, fmt: str) -> tuple[int, ...]:
    """Positions of the spatial dims in a batch shape."""
    return tuple(range(2, 2 + rank)) if fmt == "channels_first" else tuple(range(1, 1 + rank))


def channel_axis(rank: int, fmt: str) -> int:
    return 1 if fmt == "channels_first" else rank + 1


def expect_rank(layer: str, input_shape: tuple, rank: int, layout: str) -> None:
    """ValueError naming the expected layout unless the input has `rank` dims plus batch."""
    if len(input_shape) != rank + 2:
        raise ValueError(
            f'Input of layer "{layer}" must be {rank + 2}-D {layout}; '
            f"received input_shape={tuple(input_shape)}"
        )


def layout(rank: int, fmt: str) -> str:
    spatial = {1: "steps", 2: "rows, cols"}[rank]
    if fmt == "channels_first":
        return f"(batch, channels, {spatial})"
    return f"(batch, {spatial}, channels)"
