"""Weight initializers with Keras's names and fan rules.

An initializer is called as ``init(shape, dtype) -> ndarray`` and draws from
``cnnkit.utils.global_generator()`` at the time of the call, so ``set_random_seed`` makes
weight initialisation deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cnnkit.utils.random import global_generator

__all__ = ["GlorotUniform", "HeNormal", "Ones", "Zeros", "compute_fans", "get", "serialize"]

# Standard deviation of a unit normal truncated to [-2, 2]; Keras divides by it so the
# truncated draw keeps the intended variance.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them.

    Dense kernels (in, out) give (in, out); conv kernels (*spatial, in, filters) multiply
    both by the receptive-field size, e.g. a 3x3 conv kernel gives (9*in, 9*filters).
    """
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Zeros:
    """All zeros."""

    name = "zeros"

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype = np.float32) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


class Ones:
    """All ones."""

    name = "ones"

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype = np.float32) -> np.ndarray:
        return np.ones(shape, dtype=dtype)


class GlorotUniform:
    """Uniform on [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out))."""

    name = "glorot_uniform"

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype = np.float32) -> np.ndarray:
        fan_in, fan_out = compute_fans(tuple(shape))
        limit = math.sqrt(6.0 / max(1, fan_in + fan_out))
        return global_generator().uniform(-limit, limit, size=shape).astype(dtype)


class HeNormal:
    """Normal with std sqrt(2 / fan_in), truncated at two standard deviations (as Keras)."""

    name = "he_normal"

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype = np.float32) -> np.ndarray:
        fan_in, _ = compute_fans(tuple(shape))
        std = math.sqrt(2.0 / max(1, fan_in)) / _TRUNCATED_STD
        return (std * _truncated_unit_normal(tuple(shape))).astype(dtype)


def _truncated_unit_normal(shape: tuple[int, ...]) -> np.ndarray:
    """Unit normal draws, redrawing any outside [-2, 2]."""
    generator = global_generator()
    values = generator.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values


_BY_NAME: dict[str, Callable[[], Callable]] = {
    "zeros": Zeros,
    "ones": Ones,
    "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal,
}


def get(identifier: str | Callable) -> Callable:
    """An initializer from a Keras name or a callable ``(shape, dtype) -> array``."""
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown initializer {identifier!r}; expected one of {sorted(_BY_NAME)}, "
                "a numpy array or a callable (shape, dtype) -> array"
            )
        return _BY_NAME[identifier]()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"initializer must be a name, a numpy array or a callable, got {type(identifier).__name__}"
    )


def serialize(identifier: object) -> str | None:
    """The Keras name of a named initializer; None for arrays and custom callables.

    Arrays and callables are not stored in configs: a saved model carries the weights they
    produced, so the initializer is never needed again after loading.
    """
    if isinstance(identifier, str):
        return identifier
    return getattr(identifier, "name", None) if type(identifier) in _BY_NAME.values() else None
