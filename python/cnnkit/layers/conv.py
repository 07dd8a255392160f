"""Conv1D and Conv2D: cross-correlation through cnnkit.ops, with fused bias + ReLU.

With activation="relu" the C++ kernel adds the bias and applies ReLU in one pass; backward
rebuilds the ReLU mask from the stored output (y > 0), so no pre-activation copy is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnkit import activations, initializers, ops, regularizers
from cnnkit.layers import _args
from cnnkit.layers.base import (
    ActivationMixin,
    Layer,
    kernel_layer_config,
    kernel_layer_from_config,
)

__all__ = ["Conv1D", "Conv2D"]


class _Conv(ActivationMixin, Layer):
    """Shared logic of Conv1D/Conv2D; `rank` is the number of spatial dims."""

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: object = None,
        use_bias: bool = True,
        kernel_initializer: object = "glorot_uniform",
        bias_initializer: object = "zeros",
        kernel_regularizer: object = None,
        bias_regularizer: object = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters!r}"
            )
        self.filters = int(filters)
        self.kernel_size = _args.int_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _args.int_tuple(strides, self.rank, "strides")
        self.padding = _args.padding(padding)
        self.data_format = _args.data_format(data_format)
        self.dilation_rate = _args.int_tuple(dilation_rate, self.rank, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        if not isinstance(kernel_initializer, (np.ndarray, list, tuple)):
            initializers.get(kernel_initializer)  # fail at construction for unknown names
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._fused_relu = self.activation.name == "relu"

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _args.expect_rank(
            self.name, input_shape, self.rank, _args.layout(self.rank, self.data_format)
        )
        spatial = [input_shape[a] for a in _args.spatial_axes(self.rank, self.data_format)]
        out = [
            _args.output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        ]
        if any(o <= 0 for o in out):
            raise ValueError(
                f'Layer "{self.name}": kernel_size={self.kernel_size} with '
                f"dilation_rate={self.dilation_rate} is larger than the input "
                f"{tuple(spatial)} with padding='valid'; received input_shape={input_shape}"
            )
        if self.data_format == "channels_first":
            return (input_shape[0], self.filters, *out)
        return (input_shape[0], *out, self.filters)

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[_args.channel_axis(self.rank, self.data_format)]
        self.kernel = self.add_weight(
            "kernel",
            (*self.kernel_size, channels, self.filters),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer
            )
            if self.use_bias
            else None
        )

    def _geometry(self) -> dict:
        return {
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "data_format": self.data_format,
        }

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        forward = ops.conv2d if self.rank == 2 else ops.conv1d
        fuse = self._fused_relu and not self.output_logits
        z = forward(
            x, self.kernel, self.bias, activation="relu" if fuse else None, **self._geometry()
        )
        y = z if fuse else self._activate(z)
        self._cache = (x, y)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        x, y = self._cache
        dz = self._activation_grad(y, dy)
        backward = ops.conv2d_backward if self.rank == 2 else ops.conv1d_backward
        dx, dw, db = backward(x, self.kernel, dz, input_grad=self.input_grad, **self._geometry())
        self._set_grads([dw, db] if self.use_bias else [dw])
        self._cache = None
        return dx

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            **kernel_layer_config(self),
        }

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return kernel_layer_from_config(cls, config)


class Conv2D(_Conv):
    """2-D convolution; kernel (kh, kw, in_channels, filters), bias (filters,)."""

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        activation: object = None,
        use_bias: bool = True,
        kernel_initializer: object = "glorot_uniform",
        bias_initializer: object = "zeros",
        kernel_regularizer: object = None,
        bias_regularizer: object = None,
        **kwargs,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            **kwargs,
        )


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); kernel (k, in_channels, filters)."""

    rank = 1
