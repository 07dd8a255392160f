"""Adadelta: steps scaled by running RMS of past updates over running RMS of gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit.optimizers.base import DefaultFloat, Optimizer, check_number


class Adadelta(Optimizer):
    """Adadelta with Keras 3's formula and defaults (learning_rate=0.001, rho=0.95).

    ``acc_g = rho * acc_g + (1 - rho) * g**2``;
    ``delta = -sqrt(acc_d + epsilon) * g / sqrt(acc_g + epsilon)``;
    ``acc_d = rho * acc_d + (1 - rho) * delta**2``; ``w += lr * delta``.
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate: float = DefaultFloat(0.001), rho: float = 0.95,
                 epsilon: float = 1e-7, decay: float = 0.0, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, decay=decay, name=name, **kwargs)
        self.rho = check_number("rho", rho, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        grad_sq = self.slot("accumulated_grad", index)
        delta_sq = self.slot("accumulated_delta_var", index)
        delta, work = self.scratch(variable, index, count=2)
        grad_sq *= self.rho
        np.square(gradient, out=work)
        work *= 1.0 - self.rho
        grad_sq += work
        np.add(delta_sq, self.epsilon, out=delta)
        np.sqrt(delta, out=delta)
        delta *= gradient
        np.add(grad_sq, self.epsilon, out=work)
        np.sqrt(work, out=work)
        delta /= work
        np.negative(delta, out=delta)
        delta_sq *= self.rho
        np.square(delta, out=work)
        work *= 1.0 - self.rho
        delta_sq += work
        delta *= learning_rate
        variable += delta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
