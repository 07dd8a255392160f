"""Activation functions by Keras name, each with its derivative beside it.

Every derivative is written in terms of the activation's *output* y (not its input), so a
layer only has to keep its output for the backward pass. ``backward(y, dy)`` returns
dL/dx given dL/dy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnkit import _core

__all__ = [
    "Activation",
    "elu",
    "get",
    "leaky_relu",
    "linear",
    "relu",
    "relu_backward",
    "serialize",
    "sigmoid",
    "softmax",
    "tanh",
]

_LEAKY_SLOPE = 0.2  # Keras 3 default negative_slope of leaky_relu


def linear(x: np.ndarray) -> np.ndarray:
    """The identity."""
    return x


def _linear_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return dy


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward(y: np.ndarray, dy: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dy * (y > 0): the gradient through a ReLU given its output y, into `out` if given."""
    dtype = y.dtype
    if (dtype in (np.float32, np.float64) and dy.dtype == dtype and y.shape == dy.shape
            and (out is None or out.dtype == dtype)):
        return _core.relu_backward(y, dy, out)  # one parallel pass, no mask array
    return np.multiply(dy, y > 0, out=out)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def _sigmoid_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return dy * y * (1 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(x)


def _tanh_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return dy * (1 - y * y)


def elu(x: np.ndarray) -> np.ndarray:
    """x for x > 0, exp(x) - 1 otherwise (alpha = 1, the Keras default)."""
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


def _elu_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    # For x <= 0, d/dx (exp(x) - 1) = exp(x) = y + 1.
    return np.where(y > 0, dy, dy * (y + 1)).astype(dy.dtype, copy=False)


def leaky_relu(x: np.ndarray) -> np.ndarray:
    """x for x > 0, 0.2 * x otherwise (Keras 3's default slope)."""
    return np.where(x > 0, x, _LEAKY_SLOPE * x).astype(x.dtype, copy=False)


def _leaky_relu_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return np.where(y > 0, dy, _LEAKY_SLOPE * dy).astype(dy.dtype, copy=False)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along `axis`, shifted by the maximum for stability."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_backward(y: np.ndarray, dy: np.ndarray, axis: int = -1) -> np.ndarray:
    # Jacobian-vector product of softmax: y * (dy - <dy, y>).
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """A named activation: ``forward(x)`` and ``backward(y, dy)`` (y the forward output)."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]


_ACTIVATIONS = {
    activation.name: activation
    for activation in (
        Activation("linear", linear, _linear_backward),
        Activation("relu", relu, relu_backward),
        Activation("sigmoid", sigmoid, _sigmoid_backward),
        Activation("tanh", tanh, _tanh_backward),
        Activation("elu", elu, _elu_backward),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward),
        Activation("softmax", softmax, _softmax_backward),
    )
}
_FUNCTIONS = {activation.forward: activation for activation in _ACTIVATIONS.values()}


def get(identifier: str | Callable | Activation | None) -> Activation:
    """The Activation for a Keras name ("relu", ...), one of this module's functions, or None."""
    if identifier is None:
        return _ACTIVATIONS["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier in _ACTIVATIONS:
        return _ACTIVATIONS[identifier]
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    raise ValueError(
        f"Unknown activation {identifier!r}; expected one of {sorted(_ACTIVATIONS)} or None"
    )


def serialize(activation: Activation) -> str:
    """The activation's Keras name, as stored in layer configs."""
    return activation.name
