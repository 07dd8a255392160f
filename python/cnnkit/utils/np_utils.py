"""Label encoding helpers (Keras's ``to_categorical``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(y: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels, as Keras's ``to_categorical``.

    ``y`` of shape S gives shape S + (num_classes,); a trailing axis of 1 is dropped first,
    so labels of shape (N, 1) give (N, num_classes). ``num_classes`` defaults to
    ``max(y) + 1``. The result is float32, the compute dtype of cnnkit models (Keras 3
    returns float64, which would make float32 models compute their loss in float64).
    """
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"y must hold integer class labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError("y must hold whole-number class labels; got NaN, inf or fractions")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ValueError(f"y must hold labels >= 0, got a minimum of {flat.min()}")
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("num_classes is required when y is empty")
        num_classes = int(flat.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if flat.size and flat.max() >= num_classes:
        raise ValueError(f"y holds label {flat.max()} but num_classes={num_classes} allows "
                         f"only 0..{num_classes - 1}")
    categorical = np.zeros((flat.size, int(num_classes)), dtype=np.float32)
    categorical[np.arange(flat.size), flat] = 1
    return categorical.reshape((*shape, int(num_classes)))
