"""ReLU and Softmax as layers of their own (Keras's keras.layers.ReLU / Softmax)."""

from __future__ import annotations

import numpy as np

from cnnkit import activations
from cnnkit.layers.base import ActivationMixin, Layer

__all__ = ["ReLU", "Softmax"]


class ReLU(Layer):
    """min(max_value, x) for x >= threshold, negative_slope * (x - threshold) otherwise."""

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value must be >= 0 or None, got {max_value!r}")
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be >= 0, got {negative_slope!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        above = x >= self.threshold
        y = np.where(above, x, self.negative_slope * (x - self.threshold)).astype(x.dtype)
        slope = np.where(above, 1.0, self.negative_slope).astype(x.dtype)
        if self.max_value is not None:
            capped = y > self.max_value
            y[capped] = self.max_value
            slope[capped] = 0
        self._cache = slope
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        slope, self._cache = self._cache, None
        return dy * slope

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class Softmax(ActivationMixin, Layer):
    """Softmax along `axis` (default the last)."""

    def __init__(self, axis: int = -1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.activation = activations.Activation(
            "softmax",
            lambda x: activations.softmax(x, axis=self.axis),
            lambda y, dy: activations._softmax_backward(y, dy, axis=self.axis),
        )

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f'Layer "{self.name}": axis={self.axis} is out of range for '
                f"input_shape={tuple(input_shape)}"
            )
        return input_shape

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = self._activate(x)
        self._cache = y
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        y, self._cache = self._cache, None
        return self._activation_grad(y, dy)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
