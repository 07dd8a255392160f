"""Max and average pooling (1-D and 2-D, through cnnkit.ops) and global 2-D pooling."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnkit import ops
from cnnkit.layers import _args
from cnnkit.layers.base import Layer

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
]


class _Pooling(Layer):
    """Windowed pooling; `rank` spatial dims, `kind` "max" or "avg"."""

    rank = 2
    kind = "max"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = _args.int_tuple(pool_size, self.rank, "pool_size")
        self.strides = (
            self.pool_size if strides is None else _args.int_tuple(strides, self.rank, "strides")
        )
        self.padding = _args.padding(padding)
        self.data_format = _args.data_format(data_format)
        name = f"{self.kind}_pool{self.rank}d"
        self._forward = getattr(ops, name)
        self._backward = getattr(ops, f"{name}_backward")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _args.expect_rank(
            self.name, input_shape, self.rank, _args.layout(self.rank, self.data_format)
        )
        axes = _args.spatial_axes(self.rank, self.data_format)
        shape = list(input_shape)
        for axis, k, s in zip(axes, self.pool_size, self.strides):
            shape[axis] = _args.output_length(input_shape[axis], k, s, self.padding)
            if shape[axis] <= 0:
                raise ValueError(
                    f'Layer "{self.name}": pool_size={self.pool_size} is larger than the input '
                    f"with padding='valid'; received input_shape={input_shape}"
                )
        return tuple(shape)

    def _geometry(self) -> dict:
        return {
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._cache = x
        return self._forward(x, **self._geometry())

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        x, self._cache = self._cache, None
        return self._backward(x, dy, **self._geometry())

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling):
    """Max over pool_size windows (default 2x2, strides = pool_size)."""

    rank, kind = 2, "max"

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Mean over pool_size windows; padded cells are not counted."""

    rank, kind = 2, "avg"

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """Max over windows of (batch, steps, channels)."""

    rank, kind = 1, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows of (batch, steps, channels)."""

    rank, kind = 1, "avg"


class _GlobalPooling2D(Layer):
    """Reduces the two spatial dims to one value per channel."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data_format = _args.data_format(data_format)
        self.keepdims = bool(keepdims)
        self._axes = _args.spatial_axes(2, self.data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _args.expect_rank(self.name, input_shape, 2, _args.layout(2, self.data_format))
        channels = input_shape[_args.channel_axis(2, self.data_format)]
        if not self.keepdims:
            return (input_shape[0], channels)
        if self.data_format == "channels_first":
            return (input_shape[0], channels, 1, 1)
        return (input_shape[0], 1, 1, channels)

    def _flat(self, x: np.ndarray) -> np.ndarray:
        """(N, H*W, C) view: spatial positions on axis 1, whatever the data format."""
        if self.data_format == "channels_first":
            x = x.transpose(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1, x.shape[-1])

    def _unflat(self, dx: np.ndarray, shape: tuple) -> np.ndarray:
        if self.data_format == "channels_first":
            n, c, h, w = shape
            return np.ascontiguousarray(dx.reshape(n, h, w, c).transpose(0, 3, 1, 2))
        return dx.reshape(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over all positions of each channel; the gradient goes to the first maximum."""

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        flat = self._flat(x)
        index = flat.argmax(axis=1)[:, None, :]
        self._cache = (index, x.shape, flat.shape)
        y = np.take_along_axis(flat, index, axis=1)[:, 0, :]
        return y.reshape(self.compute_output_shape(x.shape))

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        index, shape, flat_shape = self._cache
        self._cache = None
        dflat = np.zeros(flat_shape, dtype=dy.dtype)
        np.put_along_axis(dflat, index, dy.reshape(flat_shape[0], 1, flat_shape[2]), axis=1)
        return self._unflat(dflat, shape)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over all positions of each channel."""

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._cache = x.shape
        return x.mean(axis=self._axes, keepdims=self.keepdims)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        shape, self._cache = self._cache, None
        count = shape[self._axes[0]] * shape[self._axes[1]]
        dy = dy.reshape(self.compute_output_shape(shape))
        if not self.keepdims:
            dy = np.expand_dims(dy, self._axes)
        return np.broadcast_to(dy / count, shape).copy()
