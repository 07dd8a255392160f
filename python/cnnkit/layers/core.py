"""Core layers: Input, Dense, Flatten, Reshape, Dropout, Activation."""

from __future__ import annotations

import math
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
from cnnkit.utils.random import global_generator

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Reshape"]


class InputLayer(Layer):
    """Declares a model's input shape; passes data through unchanged."""

    def __init__(self, shape: Sequence[int] | None = None, **kwargs) -> None:
        if shape is None and kwargs.get("input_shape") is None:
            raise ValueError("InputLayer needs a `shape`, e.g. Input(shape=(28, 28, 1))")
        kwargs["input_shape"] = shape if shape is not None else kwargs["input_shape"]
        super().__init__(**kwargs)
        self.shape = self.batch_input_shape

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        return dy


def Input(shape: Sequence[int], dtype: str | None = None, name: str | None = None) -> InputLayer:
    """The input of a Sequential model, e.g. ``Sequential([Input((28, 28, 1)), ...])``."""
    return InputLayer(shape=shape, dtype=dtype, name=name)


class Dense(ActivationMixin, Layer):
    """y = activation(x . kernel + bias) on the last axis; kernel (in, units), bias (units,)."""

    def __init__(
        self,
        units: int,
        activation: object = None,
        use_bias: bool = True,
        kernel_initializer: object = "glorot_uniform",
        bias_initializer: object = "zeros",
        kernel_regularizer: object = None,
        bias_regularizer: object = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Invalid value for argument `units`. Expected a strictly positive value. "
                f"Received units={units!r}"
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        if not isinstance(kernel_initializer, (np.ndarray, list, tuple)):
            initializers.get(kernel_initializer)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if len(input_shape) < 2:
            raise ValueError(
                f'Input of layer "{self.name}" must be at least 2-D (batch, features); '
                f"received input_shape={tuple(input_shape)}"
            )
        return (*input_shape[:-1], self.units)

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight(
            "kernel",
            (input_shape[-1], self.units),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(
                "bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer
            )
            if self.use_bias
            else None
        )

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x2 = x.reshape(-1, x.shape[-1])  # extra leading axes act as more samples, as in Keras
        fuse = self.activation.name == "relu" and not self.output_logits
        z = ops.dense(x2, self.kernel, self.bias, activation="relu" if fuse else None)
        y2 = z if fuse else self._activate(z)
        self._cache = (x2, y2, x.shape)
        return y2.reshape(*x.shape[:-1], self.units)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        x2, y2, shape = self._cache
        self._cache = None
        dz = self._activation_grad(y2, dy.reshape(y2.shape))
        dx, dw, db = ops.dense_backward(x2, self.kernel, dz, input_grad=self.input_grad)
        self._set_grads([dw, db] if self.use_bias else [dw])
        return None if dx is None else dx.reshape(shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            **kernel_layer_config(self),
        }

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return kernel_layer_from_config(cls, config)


class Flatten(Layer):
    """(batch, ...) -> (batch, features), in the order of its own data_format (Keras rule).

    channels_first inputs are moved to channels-last order first, so a Dense layer after
    Flatten sees (H, W, C) order in both formats and Keras weights load unchanged.
    """

    def __init__(self, data_format: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data_format = _args.data_format(data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if len(input_shape) < 2:
            raise ValueError(
                f'Input of layer "{self.name}" must be at least 2-D; '
                f"received input_shape={tuple(input_shape)}"
            )
        return (input_shape[0], math.prod(input_shape[1:]))

    def _channels_last(self, ndim: int) -> bool:
        return self.data_format == "channels_first" and ndim > 2

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._cache = x.shape
        if self._channels_last(x.ndim):
            x = x.transpose(0, *range(2, x.ndim), 1)
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        shape, self._cache = self._cache, None
        if not self._channels_last(len(shape)):
            return dy.reshape(shape)
        last = dy.reshape(shape[0], *shape[2:], shape[1])
        return np.ascontiguousarray(np.moveaxis(last, -1, 1))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of target_shape may be -1."""

    def __init__(self, target_shape: Sequence[int], **kwargs) -> None:
        super().__init__(**kwargs)
        target = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(
                "Invalid value for argument `target_shape`: positive ints and at most one -1. "
                f"Received target_shape={target_shape!r}"
            )
        self.target_shape = target

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(self._mismatch(input_shape))
            return (input_shape[0], *(size // known if d == -1 else d for d in self.target_shape))
        if known != size:
            raise ValueError(self._mismatch(input_shape))
        return (input_shape[0], *self.target_shape)

    def _mismatch(self, input_shape: tuple) -> str:
        return (
            f'Layer "{self.name}": cannot reshape input_shape={tuple(input_shape)} '
            f"to target_shape={self.target_shape}"
        )

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._cache = x.shape
        return x.reshape(x.shape[0], *self.output_shape[1:])

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        shape, self._cache = self._cache, None
        return dy.reshape(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Inverted dropout: in training, zeroes a `rate` fraction and scales the rest by 1/(1-rate).

    With `seed`, the layer draws from its own generator; without, from the global one
    (``cnnkit.utils.set_random_seed``). At inference it is the identity.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
            raise ValueError(
                "Invalid value for argument `rate`. Expected a float in [0, 1). "
                f"Received rate={rate!r}"
            )
        self.rate = float(rate)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0:
            self._cache = None
            return x
        generator = self._generator or global_generator()
        keep = generator.random(x.shape, dtype=np.float32) >= self.rate
        mask = keep.astype(x.dtype)
        mask *= 1 / (1 - self.rate)
        self._cache = mask
        return x * mask

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        mask, self._cache = self._cache, None
        return dy if mask is None else dy * mask

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    def get_generator_state(self) -> dict | None:
        """The own generator's state (saved with the model so training continues identically)."""
        return None if self._generator is None else self._generator.bit_generator.state

    def set_generator_state(self, state: dict) -> None:
        if self._generator is not None:
            self._generator.bit_generator.state = state


class Activation(ActivationMixin, Layer):
    """Applies an activation by name ("relu", "softmax", ...)."""

    def __init__(self, activation: object, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = self._activate(x)
        self._cache = y
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        y, self._cache = self._cache, None
        return self._activation_grad(y, dy)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
