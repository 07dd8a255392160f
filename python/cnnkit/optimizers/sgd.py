"""Stochastic gradient descent with optional (Nesterov) momentum and legacy decay."""

from __future__ import annotations

from typing import Any

import numpy as np

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
        (step,) = self.scratch(variable, index)
        np.multiply(gradient, learning_rate, out=step)  # lr_t * g
        if not self.slot_names:
            variable -= step
            return
        velocity = self.slot("momentum", index)
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
