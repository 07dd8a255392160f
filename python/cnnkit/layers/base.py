"""The Layer protocol: configuration, weights, and a forward/backward pair.

A layer is configured in ``__init__`` (keyword arguments, validated there), creates its
weights in ``build(input_shape)`` once the input shape is known, computes in
``call(x, training)`` and propagates gradients in ``backward(dy)``. ``call`` keeps in
``self._cache`` only what ``backward`` needs; ``backward`` returns dL/dx (or None when
``self.input_grad`` is False: the first layer of a model needs no input gradient) and
leaves the weight gradients in ``self.grads``, aligned with ``self.trainable_weights``.

Weights are plain numpy arrays that the optimizer updates in place, so ``set_weights``
copies into them rather than replacing them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from cnnkit import activations, initializers, regularizers

__all__ = ["Layer", "kernel_layer_config", "kernel_layer_from_config", "reset_names"]

_name_counts: defaultdict[str, int] = defaultdict(int)


def _snake_case(class_name: str) -> str:
    """Keras's conversion: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, ReLU -> re_lu."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(class_name: str) -> str:
    """conv2d, conv2d_1, conv2d_2, ...: counted per base name for this process, as Keras."""
    base = _snake_case(class_name)
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset_names() -> None:
    """Restarts automatic naming (Keras's clear_session does the same)."""
    _name_counts.clear()


def format_shape(shape: Sequence[int | None] | None) -> str:
    """(None, 28, 28, 1) as text, with a trailing comma for 1-tuples like Python."""
    return str(tuple(shape)) if shape is not None else "?"


def initial_value(initializer: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A weight's starting value from a Keras name, a callable or a numpy array.

    An array must have the weight's exact shape, except that a (kh, kw) array is accepted
    for a single-channel, single-filter kernel (kh, kw, 1, 1): a classical image filter.
    """
    if isinstance(initializer, (np.ndarray, list, tuple)):
        value = np.asarray(initializer)
        if value.shape == shape:
            return value.astype(dtype, copy=True)
        if len(shape) > 2 and shape[-2:] == (1, 1) and value.shape == shape[:-2]:
            return value.reshape(shape).astype(dtype, copy=True)
        raise ValueError(
            f"initializer array has shape {value.shape}, but the weight has shape {shape}"
            + (
                f" (a {shape[:-2]} array is accepted only when in_channels == filters == 1)"
                if len(shape) > 2
                else ""
            )
        )
    value = np.asarray(initializers.get(initializer)(shape, dtype))
    if value.shape != shape:
        raise ValueError(f"initializer returned shape {value.shape}, expected {shape}")
    return value.astype(dtype, copy=False)


class Layer:
    """Base of every layer; see the module docstring for the protocol."""

    def __init__(
        self,
        *,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        dtype: str | np.dtype | None = None,
        trainable: bool = True,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.name = name or unique_name(type(self).__name__)
        self.dtype = np.dtype(dtype or "float32")
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.trainable = bool(trainable)
        self.built = False
        self.input_grad = True
        self.input_shape: tuple[int | None, ...] | None = None
        self.output_shape: tuple[int | None, ...] | None = None
        self.batch_input_shape = None if input_shape is None else (None, *_dims(input_shape))
        self.weights: list[np.ndarray] = []
        self._weight_trainable: list[bool] = []
        self._regularizers: list[regularizers.Regularizer | None] = []
        self.grads: list[np.ndarray] = []
        self._cache: object = None

    # ------------------------------------------------------------ to be defined by layers

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Output shape (batch dim included) for an input shape; raises ValueError if invalid."""
        return input_shape

    def build(self, input_shape: tuple) -> None:
        """Creates the weights for this input shape (batch dim included)."""

    def call(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The forward pass; keeps in self._cache what backward needs."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """dL/dx from dL/dy; sets self.grads for the trainable weights."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (weights not included)."""
        config: dict = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.batch_input_shape is not None:
            config["input_shape"] = list(self.batch_input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """The layer that get_config describes."""
        return cls(**config)

    # ------------------------------------------------------------ shared machinery

    def build_for(self, input_shape: Sequence[int | None]) -> None:
        """Validates the input shape, creates the weights and records both shapes."""
        input_shape = (None, *tuple(input_shape)[1:])
        if self.built:
            self.check_input_shape(input_shape)
            return
        self.output_shape = tuple(self.compute_output_shape(input_shape))
        self.build(input_shape)
        self.input_shape = input_shape
        self.built = True

    def check_input_shape(self, shape: Sequence[int | None]) -> None:
        """Raises ValueError unless `shape` (batch dim first) is what this layer was built for."""
        expected = self.input_shape
        if expected is None:
            return
        received = tuple(shape)
        if len(received) != len(expected) or any(
            e is not None and r != e for e, r in zip(expected[1:], received[1:])
        ):
            raise ValueError(
                f'Input of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                f"layer: expected shape={format_shape(expected)}, "
                f"found shape={format_shape(received)}"
            )

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Builds on first use, checks the shape, and runs the forward pass."""
        x = _as_float_array(x)
        if self.built:
            self.check_input_shape(x.shape)
        else:
            self.build_for(x.shape)
        return self.call(x, training=training)

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: object,
        trainable: bool = True,
        regularizer: regularizers.Regularizer | None = None,
    ) -> np.ndarray:
        """Creates a weight array and registers it (Keras order: creation order)."""
        value = initial_value(initializer, tuple(shape), self.dtype)
        self.weights.append(value)
        self._weight_trainable.append(trainable)
        self._regularizers.append(regularizer)
        return value

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights the optimizer updates (empty when trainable is False)."""
        if not self.trainable:
            return []
        return [w for w, t in zip(self.weights, self._weight_trainable) if t]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """Weights updated by the layer itself (moving statistics) or frozen ones."""
        if not self.trainable:
            return list(self.weights)
        return [w for w, t in zip(self.weights, self._weight_trainable) if not t]

    def regularization_loss(self) -> float:
        """The sum of the weight penalties this layer adds to the loss."""
        return sum(reg(w) for w, reg in zip(self.weights, self._regularizers) if reg is not None)

    def _set_grads(self, grads: Sequence[np.ndarray]) -> None:
        """Stores the trainable weights' gradients, adding the regularizers' share."""
        trainable = [
            (w, reg)
            for w, t, reg in zip(self.weights, self._weight_trainable, self._regularizers)
            if t
        ]
        self.grads = [
            g if reg is None else g + reg.gradient(w) for g, (w, reg) in zip(grads, trainable)
        ]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights in Keras order and layout."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copies values into the weights (same count and shapes as get_weights)."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self.weights)} weight arrays, got {len(weights)}'
            )
        for index, (current, new) in enumerate(zip(self.weights, weights)):
            new = np.asarray(new)
            if new.shape != current.shape:
                raise ValueError(
                    f'Layer "{self.name}" weight {index} has shape {current.shape}, '
                    f"got an array of shape {new.shape}"
                )
        for current, new in zip(self.weights, weights):
            np.copyto(current, np.asarray(new), casting="same_kind")

    def count_params(self) -> int:
        """Number of scalars in all weights (trainable or not)."""
        return int(sum(w.size for w in self.weights))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class ActivationMixin:
    """A layer with a final activation, which the model may leave to a fused loss.

    With ``output_logits`` True the layer returns its pre-activation values and its
    backward takes dL/d(pre-activation): the model then applies softmax/sigmoid together
    with the crossentropy, which is exact and stable.
    """

    activation: activations.Activation
    output_logits: bool = False
    _grad_buffer: np.ndarray | None = None

    def _activate(self, z: np.ndarray) -> np.ndarray:
        return z if self.output_logits else self.activation.forward(z)

    def _activation_grad(self, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        if self.output_logits:
            return dy
        if self.activation.name != "relu":
            return self.activation.backward(y, dy)
        # ReLU's mask runs on every conv output each step: write it into an array kept from
        # the previous step instead of allocating (and page-faulting) a new one.
        buffer = self._grad_buffer
        dtype = np.result_type(dy.dtype, np.float32)
        if buffer is None or buffer.shape != dy.shape or buffer.dtype != dtype:
            buffer = self._grad_buffer = np.empty(dy.shape, dtype)
        return activations.relu_backward(y, dy, out=buffer)


def kernel_layer_config(layer: Layer) -> dict:
    """The config entries shared by layers with a kernel, a bias and an activation."""
    return {
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
    }


def kernel_layer_from_config(cls: type, config: dict) -> Layer:
    """Rebuilds a kernel layer; an array or callable initializer (saved as null) falls back to
    the Keras default, since the saved weights carry the values it produced."""
    config = dict(config)
    for key, default in (("kernel_initializer", "glorot_uniform"), ("bias_initializer", "zeros")):
        if config.get(key) is None:
            config[key] = default
    return cls(**config)


def _dims(shape: Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims = tuple(shape)
    if not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
        raise ValueError(f"input_shape must be a tuple of positive ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _as_float_array(x: object) -> np.ndarray:
    """float32/float64 arrays pass through; integers and bools become float32."""
    array = np.asarray(x)
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype.kind in "biuf":
        return array.astype(np.float32)
    raise TypeError(f"layer input must hold real numbers, got dtype {array.dtype}")
