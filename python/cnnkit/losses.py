"""Losses with Keras names and semantics, each able to return its gradient for training.

Every loss reduces per-sample values by the mean over the batch ("sum over batch size" in
Keras). A per-sample value is taken over the last axis (the class or feature axis), so
predictions of shape (N, C) give N values, (N, T, C) give N*T values, and (N,) gives N
values of one element each.

Besides ``loss(y_true, y_pred) -> float`` a loss offers what the training loop needs:
``forward_backward`` (the mean loss and its gradient w.r.t. ``y_pred``) and
``forward_backward_from_logits`` (the loss of ``softmax(logits)`` or ``sigmoid(logits)``
computed stably, with the gradient w.r.t. the logits, so the model can skip the
activation's own backward pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

EPSILON = 1e-7  # Keras's backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]


def _as_prediction(y_pred: Any) -> np.ndarray:
    """y_pred as a float array: float32/float64 kept, integers and bools computed in float32."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype in (np.float32, np.float64):
        return y_pred
    if y_pred.dtype.kind in "biuf":
        return y_pred.astype(np.float32)
    raise TypeError(f"y_pred must hold numbers, got dtype {y_pred.dtype} (shape {y_pred.shape})")


def _as_target(y_true: Any, dtype: np.dtype) -> np.ndarray:
    """y_true as an array of the prediction's dtype, rejecting NaN and inf."""
    y_true = np.asarray(y_true)
    if y_true.dtype.kind not in "biuf":
        raise TypeError(
            f"y_true must hold numbers, got dtype {y_true.dtype} (shape {y_true.shape})"
        )
    y_true = y_true.astype(dtype, copy=False)
    if not np.all(np.isfinite(y_true)):
        bad = int(np.count_nonzero(~np.isfinite(y_true)))
        raise ValueError(
            f"y_true contains {bad} NaN or inf value(s) (y_true shape {y_true.shape}); "
            "loss targets must be finite"
        )
    return y_true


def _check_batch(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.ndim == 0 or y_pred.ndim == 0:
        raise ValueError(
            f"y_true and y_pred need a batch axis, got y_true shape {y_true.shape} "
            f"and y_pred shape {y_pred.shape}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred have different batch sizes: y_true shape {y_true.shape}, "
            f"y_pred shape {y_pred.shape}"
        )


def _match_shapes(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Keras's squeeze-or-expand rule for a trailing axis of 1, then an exact shape check."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_true = y_true.reshape((*y_true.shape, 1))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
    return y_true


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; the two branches give sigmoid(z) for either sign of z.
    e = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(logits.dtype, copy=False)


class Loss:
    """Base class: a per-sample loss reduced by the mean over the batch."""

    name: str = "loss"

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            if not isinstance(name, str) or not name:
                raise TypeError(f"name must be a non-empty string, got {name!r}")
            self.name = name

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        """The mean loss over the batch, as a Python float."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        return _mean(self._values(y_true, y_pred))

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """The unreduced values, shape ``y_pred.shape[:-1]`` (``(N,)`` for 1-D predictions)."""
        y_pred = _as_prediction(y_pred)
        y_true, y_pred_2d = self._prepare(y_true, y_pred)
        values = self._values(y_true, y_pred_2d)
        return values.reshape(y_pred.shape[:1]) if y_pred.ndim == 1 else values

    def forward_backward(self, y_true: Any, y_pred: Any) -> tuple[float, np.ndarray]:
        """The mean loss and d(mean loss)/d(y_pred), same shape and dtype as y_pred."""
        y_pred = _as_prediction(y_pred)
        y_true_p, y_pred_p = self._prepare(y_true, y_pred)
        values, dsum = self._values_and_grad(y_true_p, y_pred_p)
        return _mean(values), _scaled(dsum, values.size).reshape(y_pred.shape)

    def forward_backward_from_logits(
        self, y_true: Any, logits: Any, activation: str
    ) -> tuple[float, np.ndarray] | None:
        """The loss of ``activation(logits)`` and its gradient w.r.t. the logits, or None.

        None means this loss has no fused, numerically stable form for that activation; the
        caller then runs the activation and ``forward_backward`` separately.
        """
        return None

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # Subclasses: _prepare validates and shapes the pair; _values gives the per-sample
    # values; _values_and_grad gives them with d(sum of values)/d(y_pred).
    def _prepare(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return self._values_and_grad(y_true, y_pred)[0]

    def _values_and_grad(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _mean(values: np.ndarray) -> float:
    # An empty batch has loss 0 (and a zero gradient), not a NaN with a warning.
    return float(np.mean(values, dtype=np.float64)) if values.size else 0.0


def _scaled(dsum: np.ndarray, count: int) -> np.ndarray:
    return dsum / dsum.dtype.type(max(count, 1))


def _validate_label_smoothing(label_smoothing: float) -> float:
    if not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"Invalid value for argument `label_smoothing`: expected a float in [0, 1], "
            f"received label_smoothing={label_smoothing!r}"
        )
    return float(label_smoothing)


def _validate_from_logits(from_logits: Any) -> bool:
    if not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"from_logits must be a bool, got {from_logits!r}")
    return bool(from_logits)


class _ProbabilityCrossentropy(Loss):
    """Shared math of the categorical and sparse categorical cross-entropies."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.from_logits = _validate_from_logits(from_logits)
        self.label_smoothing = _validate_label_smoothing(label_smoothing)

    def _smoothed(self, y_true: np.ndarray) -> np.ndarray:
        if self.label_smoothing == 0.0:
            return y_true
        classes = y_true.shape[-1]
        return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes

    def _values_and_grad(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        y_true = self._smoothed(y_true)
        if self.from_logits:
            return _softmax_crossentropy(y_true, y_pred)
        # Keras renormalises the probabilities to sum to 1, then clips them.
        with np.errstate(divide="ignore", invalid="ignore"):
            total = np.sum(y_pred, axis=-1, keepdims=True)
            normalized = y_pred / total
            clipped = np.clip(normalized, EPSILON, 1.0 - EPSILON)
            values = -np.sum(y_true * np.log(clipped), axis=-1)
            inside = (normalized >= EPSILON) & (normalized <= 1.0 - EPSILON)
            dclipped = np.where(inside, -y_true / clipped, 0.0).astype(y_pred.dtype, copy=False)
            # d(p_k / S)/d(p_j) = (delta_kj - p_k / S) / S
            dpred = (dclipped - np.sum(dclipped * normalized, axis=-1, keepdims=True)) / total
        return values, dpred

    def forward_backward_from_logits(
        self, y_true: Any, logits: Any, activation: str
    ) -> tuple[float, np.ndarray] | None:
        if self.from_logits or activation != "softmax":
            return None
        logits = _as_prediction(logits)
        y_true, logits = self._prepare(y_true, logits)
        values, dsum = _softmax_crossentropy(self._smoothed(y_true), logits)
        return _mean(values), _scaled(dsum, values.size)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


def _softmax_crossentropy(
    y_true: np.ndarray, logits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """-sum(y * log_softmax(z)) per sample, and its gradient softmax(z) * sum(y) - y."""
    log_probs = _log_softmax(logits)
    values = -np.sum(y_true * log_probs, axis=-1)
    dlogits = np.exp(log_probs) * np.sum(y_true, axis=-1, keepdims=True) - y_true
    return values, dlogits


class CategoricalCrossentropy(_ProbabilityCrossentropy):
    """Cross-entropy between one-hot (or soft) targets and predicted class probabilities.

    ``y_true`` and ``y_pred`` have the same shape (N, ..., classes). With
    ``from_logits=False`` the predictions are renormalised to sum to 1 and clipped to
    [1e-7, 1 - 1e-7] (Keras); with ``from_logits=True`` they are logits and a stable
    log-softmax is used.
    """

    name = "categorical_crossentropy"

    def _prepare(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        y_pred = _as_prediction(y_pred)
        y_true = _as_target(y_true, y_pred.dtype)
        _check_batch(y_true, y_pred)
        if y_pred.ndim < 2:
            raise ValueError(
                f"{self.name} needs y_pred with a class axis, got y_pred shape {y_pred.shape}"
            )
        hint = (
            "; integer class labels need sparse_categorical_crossentropy"
            if y_true.shape[:-1] == y_pred.shape[:-1] or y_true.shape == y_pred.shape[:-1]
            else ""
        )
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}{hint}"
            )
        return y_true, y_pred


class SparseCategoricalCrossentropy(_ProbabilityCrossentropy):
    """Cross-entropy between integer class labels and predicted class probabilities.

    ``y_true`` holds labels in [0, classes) with shape ``y_pred.shape[:-1]`` (or that shape
    followed by 1, as Keras allows); float labels must be whole numbers.
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, name: str | None = None) -> None:
        super().__init__(from_logits=from_logits, name=name)

    def _prepare(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        y_pred = _as_prediction(y_pred)
        labels = np.asarray(y_true)
        if labels.dtype.kind not in "biuf":
            raise TypeError(f"y_true must hold class labels, got dtype {labels.dtype}")
        _check_batch(labels, y_pred)
        if y_pred.ndim < 2:
            raise ValueError(
                f"{self.name} needs y_pred with a class axis, got y_pred shape {y_pred.shape}"
            )
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels.reshape(labels.shape[:-1])
        if labels.shape != y_pred.shape[:-1]:
            raise ValueError(
                f"sparse labels y_true shape {np.shape(y_true)} does not fit y_pred shape "
                f"{y_pred.shape}: expected {y_pred.shape[:-1]} (one label per prediction)"
            )
        return _one_hot(labels, y_pred.shape[-1], y_pred.dtype), y_pred

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "from_logits": self.from_logits}


def _one_hot(labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
    """One-hot rows for sparse labels, after checking they are whole numbers in range."""
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"y_true contains NaN or inf labels (y_true shape {labels.shape})")
        if not np.all(labels == np.round(labels)):
            raise ValueError(
                f"sparse labels must be whole numbers, got non-integer values in y_true "
                f"(shape {labels.shape})"
            )
    if labels.size:
        low, high = labels.min(), labels.max()
        if low < 0 or high >= classes:
            raise ValueError(
                f"sparse labels must be in [0, {classes}) for y_pred with {classes} classes; "
                f"got labels from {low:g} to {high:g} (y_true shape {labels.shape})"
            )
    flat = labels.reshape(-1).astype(np.intp)
    one_hot = np.zeros((flat.size, classes), dtype=dtype)
    one_hot[np.arange(flat.size), flat] = 1
    return one_hot.reshape((*labels.shape, classes))


class BinaryCrossentropy(Loss):
    """Cross-entropy for independent yes/no targets in [0, 1], averaged over the last axis.

    With ``from_logits=False`` predictions are clipped to [1e-7, 1 - 1e-7] (Keras); with
    ``from_logits=True`` the stable form max(z, 0) - z*y + log(1 + exp(-|z|)) is used.
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.from_logits = _validate_from_logits(from_logits)
        self.label_smoothing = _validate_label_smoothing(label_smoothing)

    def _prepare(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        return _prepare_elementwise(y_true, y_pred)

    def _smoothed(self, y_true: np.ndarray) -> np.ndarray:
        if self.label_smoothing == 0.0:
            return y_true
        return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing

    def _values_and_grad(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        y_true = self._smoothed(y_true)
        if self.from_logits:
            return _sigmoid_crossentropy(y_true, y_pred)
        clipped = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        elementwise = -(y_true * np.log(clipped) + (1.0 - y_true) * np.log(1.0 - clipped))
        inside = (y_pred >= EPSILON) & (y_pred <= 1.0 - EPSILON)
        delement = np.where(inside, (1.0 - y_true) / (1.0 - clipped) - y_true / clipped, 0.0)
        width = y_pred.shape[-1]
        return np.mean(elementwise, axis=-1), (delement / width).astype(y_pred.dtype, copy=False)

    def forward_backward_from_logits(
        self, y_true: Any, logits: Any, activation: str
    ) -> tuple[float, np.ndarray] | None:
        if self.from_logits or activation != "sigmoid":
            return None
        logits = _as_prediction(logits)
        y_true_p, logits_p = self._prepare(y_true, logits)
        values, dsum = _sigmoid_crossentropy(self._smoothed(y_true_p), logits_p)
        return _mean(values), _scaled(dsum, values.size).reshape(logits.shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


def _sigmoid_crossentropy(
    y_true: np.ndarray, logits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample mean of the stable logistic loss, and d(sum of values)/d(logits)."""
    elementwise = np.maximum(logits, 0) - logits * y_true + np.log1p(np.exp(-np.abs(logits)))
    width = logits.shape[-1]
    return np.mean(elementwise, axis=-1), (_sigmoid(logits) - y_true) / logits.dtype.type(width)


def _prepare_elementwise(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated pair of equal shape; 1-D predictions become (N, 1) so each is one sample."""
    y_pred = _as_prediction(y_pred)
    y_true = _as_target(y_true, y_pred.dtype)
    _check_batch(y_true, y_pred)
    y_true = _match_shapes(y_true, y_pred)
    if y_pred.ndim == 1:
        return y_true.reshape(-1, 1), y_pred.reshape(-1, 1)
    return y_true, y_pred


class _ElementwiseLoss(Loss):
    """A loss of y_pred - y_true element by element, averaged over the last axis."""

    def _prepare(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        return _prepare_elementwise(y_true, y_pred)


class MeanSquaredError(_ElementwiseLoss):
    """mean((y_pred - y_true)**2) over the last axis, then over the batch."""

    name = "mean_squared_error"

    def _values_and_grad(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        diff = y_pred - y_true
        width = y_pred.dtype.type(y_pred.shape[-1])
        return np.mean(diff * diff, axis=-1), diff * (2 / width)


class MeanAbsoluteError(_ElementwiseLoss):
    """mean(|y_pred - y_true|) over the last axis, then over the batch (gradient sign/width)."""

    name = "mean_absolute_error"

    def _values_and_grad(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        diff = y_pred - y_true
        width = y_pred.dtype.type(y_pred.shape[-1])
        return np.mean(np.abs(diff), axis=-1), np.sign(diff) / width


# Keras's function forms: per-sample values, accepted by compile like the classes.
def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0) -> np.ndarray:
    """Per-sample categorical cross-entropy (see CategoricalCrossentropy)."""
    return CategoricalCrossentropy(from_logits, label_smoothing).per_sample(y_true, y_pred)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any,
                                    from_logits: bool = False) -> np.ndarray:
    """Per-sample sparse categorical cross-entropy (see SparseCategoricalCrossentropy)."""
    return SparseCategoricalCrossentropy(from_logits).per_sample(y_true, y_pred)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> np.ndarray:
    """Per-sample binary cross-entropy, averaged over the last axis (see BinaryCrossentropy)."""
    return BinaryCrossentropy(from_logits, label_smoothing).per_sample(y_true, y_pred)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean squared error over the last axis."""
    return MeanSquaredError().per_sample(y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean absolute error over the last axis."""
    return MeanAbsoluteError().per_sample(y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error

_CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                MeanSquaredError, MeanAbsoluteError)
}
_NAMES: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
}
_FUNCTIONS: dict[Callable[..., np.ndarray], type[Loss]] = {
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
}


def get(identifier: Any) -> Loss | None:
    """A Loss from an instance, a Keras name, a class name, a function form or a config dict.

    None gives None (a model compiled without a loss), as in Keras.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown loss {identifier!r}; known names: {', '.join(sorted(_NAMES))}"
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    raise ValueError(
        f"Could not interpret loss identifier {identifier!r}: pass a Loss, one of "
        f"{', '.join(sorted(_NAMES))}, or a function form such as "
        "cnnkit.losses.categorical_crossentropy"
    )


def serialize(loss: Loss) -> dict[str, Any]:
    """A JSON-able description of the loss: its class name and config."""
    if not isinstance(loss, Loss):
        raise TypeError(f"serialize expects a Loss, got {type(loss).__name__}")
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """The loss that ``serialize`` described."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"deserialize expects {{'class_name': ..., 'config': ...}}, got {config!r}"
        )
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"Unknown loss class {config['class_name']!r}; known: {', '.join(sorted(_CLASSES))}"
        )
    return cls.from_config(dict(config.get("config", {})))


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "deserialize",
    "get",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
]
