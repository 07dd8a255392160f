"""Adam: adaptive moment estimation (Kingma and Ba, https://arxiv.org/abs/1412.6980)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnkit.optimizers.base import DefaultFloat, Optimizer, check_number


class Adam(Optimizer):
    """Adam with Keras 3's formula.

    With t = iterations + 1: ``m += (g - m) * (1 - beta_1)``, ``v += (g**2 - v) * (1 - beta_2)``,
    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` and
    ``w -= alpha * m / (sqrt(v) + epsilon)`` (epsilon outside the square root, added to the
    uncorrected ``sqrt(v)``). ``amsgrad=True`` uses the running maximum of v instead.
    """

    def __init__(self, learning_rate: float = DefaultFloat(0.001), beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 decay: float = 0.0, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, decay=decay, name=name, **kwargs)
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, high_inclusive=False)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_inclusive=False)
        self.epsilon = check_number("epsilon", epsilon)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise TypeError(f"Invalid value for argument `amsgrad`: expected a bool, "
                            f"received amsgrad={amsgrad!r}")
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("momentum", "velocity", "velocity_hat") if amsgrad else (
            "momentum", "velocity")

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        step = self.iterations + 1
        alpha = learning_rate * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)
        m, v = self.slot("momentum", index), self.slot("velocity", index)
        (work,) = self.scratch(variable, index)
        np.subtract(gradient, m, out=work)
        work *= 1.0 - self.beta_1
        m += work
        np.square(gradient, out=work)
        work -= v
        work *= 1.0 - self.beta_2
        v += work
        if self.amsgrad:
            v_hat = self.slot("velocity_hat", index)
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=work)
        work += self.epsilon
        np.divide(m, work, out=work)
        work *= alpha
        variable -= work

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
