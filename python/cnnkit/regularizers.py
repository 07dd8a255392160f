"""Weight regularizers: a penalty added to the loss and its gradient added to the weight's."""

from __future__ import annotations

import numpy as np

__all__ = ["L2", "Regularizer", "get", "l2", "serialize"]


class Regularizer:
    """A penalty ``regularizer(w) -> float`` with ``gradient(w)`` its derivative."""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError


class L2(Regularizer):
    """l2 * sum(w ** 2), Keras's L2 (default factor 0.01)."""

    def __init__(self, l2: float = 0.01) -> None:
        if not np.isfinite(l2) or l2 < 0:
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.l2 = float(l2)

    def __call__(self, w: np.ndarray) -> float:
        return self.l2 * float(np.sum(np.square(w, dtype=np.float64)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return (2 * self.l2) * w

    def get_config(self) -> dict:
        return {"l2": self.l2}


l2 = L2  # Keras exposes the class under its lower-case name too.


def get(identifier: Regularizer | str | dict | None) -> Regularizer | None:
    """A regularizer from an instance, "l2", a serialized dict, or None."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if identifier == "l2":
        return L2()
    if isinstance(identifier, dict) and identifier.get("class_name") == "L2":
        return L2(**identifier.get("config", {}))
    raise ValueError(f"Unknown regularizer {identifier!r}; expected 'l2', an L2 instance or None")


def serialize(regularizer: Regularizer | None) -> dict | None:
    """A JSON-able description of the regularizer (None stays None)."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
