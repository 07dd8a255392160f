"""BatchNormalization with Keras's weights, defaults and moving-average rule."""

from __future__ import annotations

import numpy as np

from cnnkit.layers.base import Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Normalises each feature along `axis` with batch statistics in training.

    Training: y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta, and
    moving = momentum * moving + (1 - momentum) * batch statistic (biased variance, as
    Keras 3). Inference uses the moving statistics. Weights, in Keras order:
    [gamma, beta, moving_mean, moving_variance] (gamma/beta only when scale/center).
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(
                f'Layer "{self.name}": axis={self.axis} is not a feature axis of '
                f"input_shape={tuple(input_shape)}"
            )
        return input_shape

    def build(self, input_shape: tuple) -> None:
        self._feature_axis = self.axis % len(input_shape)
        features = (input_shape[self._feature_axis],)
        self.gamma = self.add_weight("gamma", features, "ones") if self.scale else None
        self.beta = self.add_weight("beta", features, "zeros") if self.center else None
        self.moving_mean = self.add_weight("moving_mean", features, "zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", features, "ones", trainable=False)

    def _broadcast(self, v: np.ndarray, ndim: int) -> np.ndarray:
        shape = [1] * ndim
        shape[self._feature_axis] = v.shape[0]
        return v.reshape(shape)

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        reduce = tuple(a for a in range(x.ndim) if a != self._feature_axis)
        if training and self.trainable:
            mean = x.mean(axis=reduce)
            var = x.var(axis=reduce)
            self.moving_mean *= self.momentum
            self.moving_mean += (1 - self.momentum) * mean
            self.moving_variance *= self.momentum
            self.moving_variance += (1 - self.momentum) * var
        else:
            mean, var = self.moving_mean, self.moving_variance
        inv_std = 1 / np.sqrt(var.astype(x.dtype) + x.dtype.type(self.epsilon))
        x_hat = (x - self._broadcast(mean.astype(x.dtype), x.ndim)) * self._broadcast(
            inv_std, x.ndim
        )
        self._cache = (x_hat, inv_std, reduce, training and self.trainable)
        y = x_hat
        if self.scale:
            y = y * self._broadcast(self.gamma.astype(x.dtype), x.ndim)
        if self.center:
            y = y + self._broadcast(self.beta.astype(x.dtype), x.ndim)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        x_hat, inv_std, reduce, batch_stats = self._cache
        self._cache = None
        grads = []
        if self.scale:
            grads.append((dy * x_hat).sum(axis=reduce))
        if self.center:
            grads.append(dy.sum(axis=reduce))
        self._set_grads(grads)
        dx_hat = dy * self._broadcast(self.gamma.astype(dy.dtype), dy.ndim) if self.scale else dy
        scale = self._broadcast(inv_std, dy.ndim)
        if not batch_stats:
            return dx_hat * scale
        # Batch statistics depend on x: subtract the mean gradient and its projection on x_hat.
        mean_dx_hat = dx_hat.mean(axis=reduce, keepdims=True)
        mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=reduce, keepdims=True)
        return scale * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }
