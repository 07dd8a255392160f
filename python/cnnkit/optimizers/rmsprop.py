"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit.optimizers.base import DefaultFloat, Optimizer, check_number


class RMSprop(Optimizer):
    """RMSprop with Keras 3's formula.

    ``v = rho * v + (1 - rho) * g**2``; the step is ``lr * g / sqrt(v + epsilon)`` (epsilon
    inside the square root). ``centered=True`` also tracks ``a = rho * a + (1 - rho) * g`` and
    uses ``sqrt(v - a**2 + epsilon)``. With momentum, ``mom = momentum * mom + step`` and
    ``w -= mom``; otherwise ``w -= step``.
    """

    def __init__(self, learning_rate: float = DefaultFloat(0.001), rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 decay: float = 0.0, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, decay=decay, name=name, **kwargs)
        self.rho = check_number("rho", rho, 0.0, 1.0)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon)
        if not isinstance(centered, (bool, np.bool_)):
            raise TypeError(f"Invalid value for argument `centered`: expected a bool, "
                            f"received centered={centered!r}")
        self.centered = bool(centered)
        names = ["velocity"]
        if self.momentum > 0.0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        self.slot_names = tuple(names)

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        velocity = self.slot("velocity", index)
        (work,) = self.scratch(variable, index)
        velocity *= self.rho
        np.square(gradient, out=work)
        work *= 1.0 - self.rho
        velocity += work
        if self.centered:
            average = self.slot("average_gradient", index)
            average *= self.rho
            np.multiply(gradient, 1.0 - self.rho, out=work)
            average += work
            np.square(average, out=work)
            np.subtract(velocity, work, out=work)
            work += self.epsilon
        else:
            np.add(velocity, self.epsilon, out=work)
        np.sqrt(work, out=work)
        np.divide(gradient, work, out=work)
        work *= learning_rate
        if self.momentum > 0.0:
            momentum = self.slot("momentum", index)
            momentum *= self.momentum
            momentum += work
            variable -= momentum
        else:
            variable -= work

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
