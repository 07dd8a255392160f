"""Adagrad: per-parameter rates that shrink with the sum of squared past gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit.optimizers.base import DefaultFloat, Optimizer, check_number


class Adagrad(Optimizer):
    """Adagrad with Keras 3's formula and defaults.

    ``acc += g**2`` (acc starts at ``initial_accumulator_value``), then
    ``w -= lr * g / sqrt(acc + epsilon)``.
    """

    slot_names = ("accumulator",)

    def __init__(self, learning_rate: float = DefaultFloat(0.001),
                 initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 decay: float = 0.0, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, decay=decay, name=name, **kwargs)
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value)
        self.epsilon = check_number("epsilon", epsilon)

    def initial_slot_value(self, slot_name: str) -> float:
        return self.initial_accumulator_value

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        accumulator = self.slot("accumulator", index)
        (work,) = self.scratch(variable, index)
        np.square(gradient, out=work)
        accumulator += work
        np.add(accumulator, self.epsilon, out=work)
        np.sqrt(work, out=work)
        np.divide(gradient, work, out=work)
        work *= learning_rate
        variable -= work

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
