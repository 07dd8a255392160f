"""Metrics with Keras names: running means of per-sample values over the batches of an epoch.

A metric's ``name`` is the key it gets in ``History.history`` and in the logs callbacks see.
Asked for by string, a metric is named by that string ("accuracy", "acc", "mse", ...), as
Keras does; ``get("accuracy", loss)`` picks the accuracy variant the loss implies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnnkit import losses as losses_module


def _as_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    for arg, value in (("y_true", y_true), ("y_pred", y_pred)):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{arg} must hold numbers, got dtype {value.dtype}")
        if value.ndim == 0:
            raise ValueError(f"{arg} needs a batch axis, got a scalar")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred have different batch sizes: y_true shape {y_true.shape}, "
            f"y_pred shape {y_pred.shape}"
        )
    return y_true, y_pred


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """Per-sample fraction of entries where (y_pred > threshold) equals y_true (last axis)."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    y_true = losses_module._match_shapes(y_true, y_pred)
    hits = (y_true == (y_pred > threshold)).astype(np.float64)
    return hits if hits.ndim == 1 else np.mean(hits, axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample 1.0 where argmax(y_pred) equals argmax(y_true) over the last axis."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"categorical accuracy needs one-hot y_true of y_pred's shape: y_true shape "
            f"{y_true.shape}, y_pred shape {y_pred.shape}"
        )
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample 1.0 where argmax(y_pred) equals the integer label y_true."""
    y_true, y_pred = _as_pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"sparse accuracy needs one label per prediction: y_true shape {y_true.shape}, "
            f"y_pred shape {y_pred.shape}"
        )
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float64)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean squared error (the loss's function form)."""
    return losses_module.mean_squared_error(y_true, y_pred).astype(np.float64)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean absolute error (the loss's function form)."""
    return losses_module.mean_absolute_error(y_true, y_pred).astype(np.float64)


class Metric:
    """Base class: the mean of per-sample values over every update since the last reset."""

    # "up" when larger is better; EarlyStopping and ModelCheckpoint read it in mode="auto".
    _direction = "down"

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        """Forgets every update (Keras calls this at the start of each epoch)."""
        self._total = 0.0
        self._count = 0

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        """Adds one batch: each sample counts once, so the result weights batches by size."""
        values = self._per_sample(y_true, y_pred)
        self._total += float(np.sum(values, dtype=np.float64))
        self._count += values.size

    def result(self) -> float:
        """The mean over all samples seen since reset (0.0 before any update, as Keras)."""
        return self._total / self._count if self._count else 0.0

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        raise NotImplementedError


class BinaryAccuracy(Metric):
    """How often (y_pred > threshold) matches a 0/1 target."""

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        self.threshold = float(threshold)
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return binary_accuracy(y_true, y_pred, self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """How often the predicted class (argmax) matches the one-hot target's class."""

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return categorical_accuracy(y_true, y_pred)


class SparseCategoricalAccuracy(Metric):
    """How often the predicted class (argmax) matches an integer label."""

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return sparse_categorical_accuracy(y_true, y_pred)


class MeanSquaredError(Metric):
    """Running mean squared error."""

    def __init__(self, name: str = "mean_squared_error") -> None:
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Metric):
    """Running mean absolute error."""

    def __init__(self, name: str = "mean_absolute_error") -> None:
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return mean_absolute_error(y_true, y_pred)


class MeanMetricWrapper(Metric):
    """The running mean of any per-sample function ``fn(y_true, y_pred)``."""

    def __init__(self, fn: Callable[[Any, Any], np.ndarray], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        self._fn = fn
        super().__init__(name or getattr(fn, "__name__", "mean_metric"))

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return np.asarray(self._fn(y_true, y_pred), dtype=np.float64)


class _ShapeResolvedAccuracy(Metric):
    """"accuracy" for losses that do not imply a variant: chosen from the first batch's shapes.

    Keras 3's rule: one output column means binary accuracy; a label per prediction
    (y_true one rank lower, or a trailing axis of 1 against several classes) means sparse
    categorical accuracy; otherwise categorical accuracy.
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy") -> None:
        self._variant: Callable[[Any, Any], np.ndarray] | None = None
        super().__init__(name)

    def _per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        if self._variant is None:
            true_shape, pred_shape = np.shape(y_true), np.shape(y_pred)
            if len(pred_shape) < 2 or pred_shape[-1] == 1:
                self._variant = binary_accuracy
            elif len(true_shape) == len(pred_shape) - 1 or true_shape[-1:] == (1,):
                self._variant = sparse_categorical_accuracy
            else:
                self._variant = categorical_accuracy
        return self._variant(y_true, y_pred)


_ACCURACY_FOR_LOSS: dict[type, type[Metric]] = {
    losses_module.BinaryCrossentropy: BinaryAccuracy,
    losses_module.SparseCategoricalCrossentropy: SparseCategoricalAccuracy,
    losses_module.CategoricalCrossentropy: CategoricalAccuracy,
}
_NAMES: dict[str, Callable[[str], Metric]] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
}
_FUNCTIONS: dict[Callable[..., np.ndarray], Callable[[str], Metric]] = {
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    losses_module.mean_squared_error: MeanSquaredError,
    losses_module.mean_absolute_error: MeanAbsoluteError,
}


def get(identifier: Any, loss: Any = None) -> Metric:
    """A Metric from an instance, a name or a function form.

    "accuracy" (or "acc") follows the loss: binary cross-entropy gives binary accuracy
    (threshold 0.5), sparse categorical cross-entropy gives sparse categorical accuracy,
    categorical cross-entropy gives categorical accuracy; other losses choose from the
    targets' shape on the first update. ``loss`` is anything ``cnnkit.losses.get`` accepts.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            loss_obj = losses_module.get(loss)
            variant = _ACCURACY_FOR_LOSS.get(type(loss_obj), _ShapeResolvedAccuracy)
            return variant(name=identifier)
        factory = _NAMES.get(identifier)
        if factory is None:
            raise ValueError(
                f"Unknown metric {identifier!r}; known names: "
                f"{', '.join(['accuracy', 'acc', *sorted(_NAMES)])}"
            )
        return factory(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier](name=identifier.__name__)
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"Could not interpret metric identifier {identifier!r}: pass a Metric, a per-sample "
        f"function, or one of {', '.join(['accuracy', 'acc', *sorted(_NAMES)])}"
    )


__all__ = [
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "SparseCategoricalAccuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "sparse_categorical_accuracy",
]
