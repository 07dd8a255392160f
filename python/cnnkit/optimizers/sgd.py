"""Stochastic gradient descent with optional (Nesterov) momentum and legacy decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit import _core
from cnnkit.optimizers.base import DefaultFloat, Optimizer, check_number


class SGD(Optimizer):
    """Gradient descent, Keras's update rule.

    Without momentum: ``w -= lr_t * g``. With momentum: ``v = momentum * v - lr_t * g``, then
    ``w += momentum * v - lr_t * g`` (nesterov) or ``w += v``. ``lr_t`` is
    ``learning_rate / (1 + decay * iterations)``, the legacy inverse-time decay (``decay=0``
    keeps it constant); ``lr=`` is accepted as the legacy spelling of ``learning_rate``, so
    ``SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)`` works as in old Keras code.
    """

    def __init__(self, learning_rate: float = DefaultFloat(0.01), momentum: float = 0.0,
                 nesterov: bool = False, decay: float = 0.0, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, decay=decay, name=name, **kwargs)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"Invalid value for argument `nesterov`: expected a bool, "
                            f"received nesterov={nesterov!r}")
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum != 0.0 else ()

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        velocity = self.slot("momentum", index) if self.slot_names else None
        if _in_place_arrays(variable, gradient, velocity):
            # One compiled pass instead of six numpy ones; the same operations, bit for bit.
            _core.sgd_update(variable, gradient, velocity, learning_rate, self.momentum,
                             self.nesterov)
            return
        (step,) = self.scratch(variable, index)
        np.multiply(gradient, learning_rate, out=step)  # lr_t * g
        if not self.slot_names:
            variable -= step
            return
        velocity *= self.momentum
        velocity -= step
        if self.nesterov:
            variable -= step
            np.multiply(velocity, self.momentum, out=step)
            variable += step
        else:
            variable += velocity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


def _in_place_arrays(variable: np.ndarray, gradient: np.ndarray,
                     velocity: np.ndarray | None) -> bool:
    """Whether the compiled update applies: float32/float64 C-contiguous writeable arrays."""
    if variable.dtype not in (np.float32, np.float64) or gradient.shape != variable.shape:
        return False
    arrays = (variable,) if velocity is None else (variable, velocity)
    return all(a.flags.c_contiguous and a.flags.writeable and a.dtype == variable.dtype
               for a in arrays)
