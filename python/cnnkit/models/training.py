"""compile / fit / evaluate / predict for Sequential, with Keras's semantics.

One training step: forward (training=True), loss and dL/dy, backward through the layers,
one optimizer.apply on the trainable arrays in place. When the last layer ends in softmax
or sigmoid and the loss has a fused form, the step feeds the logits to
loss.forward_backward_from_logits ((p - y)/N for crossentropy) instead of differentiating
through the activation: exact, stable, and cheaper.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cnnkit import callbacks as callbacks_module
from cnnkit import losses, metrics, optimizers
from cnnkit.layers.base import ActivationMixin
from cnnkit.models.progress import ProgressBar, resolve_verbose
from cnnkit.utils.random import global_generator

if TYPE_CHECKING:
    from cnnkit.models.sequential import Sequential

__all__ = [
    "as_input_array",
    "compile_model",
    "evaluate",
    "evaluate_batch",
    "fit",
    "predict",
    "train_on_batch",
]


# ---------------------------------------------------------------- inputs


def as_input_array(x: object) -> np.ndarray:
    """float32/float64 arrays as they are; integer (uint8 images) and bool arrays as float32."""
    if x is None:
        raise ValueError("x is required: pass the input array")
    array = np.asarray(x)
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype.kind in "biuf":
        return array.astype(np.float32)
    raise TypeError(f"x must hold numbers, got dtype {array.dtype}")


def _as_target_array(y: object, x: np.ndarray) -> np.ndarray:
    if y is None:
        raise ValueError("y is required: pass the target array")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(
            f"x and y must have the same number of samples, got x with shape {x.shape} "
            f"and y with shape {y.shape}"
        )
    return y


def _batch_size(batch_size: int | None) -> int:
    if batch_size is None:
        return 32
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


# ---------------------------------------------------------------- compile


def compile_model(
    model: Sequential,
    optimizer: object,
    loss: object,
    loss_weights: object,
    metric_ids: object,
) -> None:
    """Resolves the optimizer, loss and metrics (Keras strings or instances)."""
    model.optimizer = optimizers.get(optimizer)
    model.loss = losses.get(loss)
    model._loss_weight = _loss_weight(loss_weights)
    if metric_ids is None:
        metric_ids = []
    elif isinstance(metric_ids, (str, metrics.Metric)) or callable(metric_ids):
        metric_ids = [metric_ids]
    model.metrics = [metrics.get(m, model.loss) for m in metric_ids]
    model._compile_config = {
        "loss_weights": loss_weights if loss_weights is None else model._loss_weight,
        "metrics": [m if isinstance(m, str) else m.name for m in metric_ids],
    }
    model._fused_activation = None
    model.compiled = True


def _loss_weight(loss_weights: object) -> float:
    """A single-output model takes a number, or a one-element list or dict of one."""
    if loss_weights is None:
        return 1.0
    value = loss_weights
    if isinstance(loss_weights, dict):
        value = list(loss_weights.values())
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(
                f"loss_weights for a single-output model needs one value, got {loss_weights!r}"
            )
        value = value[0]
    if not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"loss_weights must be a finite number, got {loss_weights!r}")
    return float(value)


def _require_compiled(model: Sequential) -> None:
    if not model.compiled or model.loss is None:
        raise RuntimeError(
            "You must call compile(optimizer=..., loss=...) before training or evaluating "
            f'model "{model.name}"'
        )


# ---------------------------------------------------------------- one step


def _fusable_activation(model: Sequential) -> str | None:
    """ "softmax"/"sigmoid" when the last layer ends in it (along the last axis)."""
    last = model.layers[-1]
    if not isinstance(last, ActivationMixin) or getattr(last, "axis", -1) != -1:
        return None
    name = last.activation.name
    return name if name in ("softmax", "sigmoid") else None


def _forward_loss_backward(
    model: Sequential, x: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Forward in training mode, the loss, and backward; returns (loss, y_pred)."""
    weight = model._loss_weight
    activation = None if model._fused_activation is False else _fusable_activation(model)
    if activation is not None:
        last = model.layers[-1]
        last.output_logits = True
        try:
            logits = model.forward(x, training=True)
            fused = model.loss.forward_backward_from_logits(y, logits, activation)
            if fused is not None:
                loss_value, dy = fused
                model.backward(dy * weight if weight != 1 else dy)
                return loss_value * weight, last.activation.forward(logits)
        finally:
            last.output_logits = False
        model._fused_activation = False  # this loss has no fused form: stop trying
    y_pred = model.forward(x, training=True)
    loss_value, dy = model.loss.forward_backward(y, y_pred)
    model.backward(dy * weight if weight != 1 else dy)
    return loss_value * weight, y_pred


def _train_step(model: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    loss_value, y_pred = _forward_loss_backward(model, x, y)
    loss_value += model.regularization_loss()
    model.optimizer.apply(model.trainable_weights, model.gradients())
    return float(loss_value), y_pred


def _test_step(model: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    y_pred = model.forward(x, training=False)
    loss_value = model.loss(y, y_pred) * model._loss_weight + model.regularization_loss()
    return float(loss_value), y_pred


class _RunningMean:
    """Sample-weighted mean of per-batch values (Keras's loss tracker)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, value: float, count: int) -> None:
        self.total += value * count
        self.count += count

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def _logs(model: Sequential, loss: _RunningMean) -> dict[str, float]:
    """Metrics first, then the loss: the order Keras 3 prints and records them."""
    logs = {metric.name: float(metric.result()) for metric in model.metrics}
    logs["loss"] = loss.result()
    return logs


def _reset_metrics(model: Sequential) -> None:
    for metric in model.metrics:
        metric.reset_state()


def _update_metrics(model: Sequential, y: np.ndarray, y_pred: np.ndarray) -> None:
    for metric in model.metrics:
        metric.update_state(y, y_pred)


# ---------------------------------------------------------------- batching


class _Batches:
    """Gathers batches of (x, y) rows into reused buffers (no per-sample Python loop)."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, batch_size: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size
        self.steps = max(1, math.ceil(len(x) / batch_size)) if len(x) else 0
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

    def get(self, step: int, order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        start = step * self.batch_size
        stop = min(start + self.batch_size, len(self.x))
        if order is None:
            return self.x[start:stop], None if self.y is None else self.y[start:stop]
        index = order[start:stop]
        count = stop - start
        if count not in self._buffers:
            self._buffers[count] = (
                np.empty((count, *self.x.shape[1:]), self.x.dtype),
                None if self.y is None else np.empty((count, *self.y.shape[1:]), self.y.dtype),
            )
        xb, yb = self._buffers[count]
        np.take(self.x, index, axis=0, out=xb)
        if yb is not None:
            np.take(self.y, index, axis=0, out=yb)
        return xb, yb


# ---------------------------------------------------------------- fit


def _split_validation(
    x: np.ndarray, y: np.ndarray, validation_split: float, validation_data: object
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val), got "
                f"{type(validation_data).__name__} of length {len(validation_data)}"
            )
        x_val = as_input_array(validation_data[0])
        return x, y, (x_val, _as_target_array(validation_data[1], x_val))
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_split == 0:
        return x, y, None
    # Keras rule: the last fraction of the samples, taken before any shuffling.
    split_at = math.floor(len(x) * (1 - validation_split))
    if split_at == 0 or split_at == len(x):
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation set "
            f"for {len(x)} samples"
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def fit(
    model: Sequential,
    x: object,
    y: object,
    batch_size: int | None = 32,
    epochs: int = 1,
    verbose: int | str = "auto",
    callbacks: Sequence[callbacks_module.Callback] | None = None,
    validation_split: float = 0.0,
    validation_data: object = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
) -> callbacks_module.History:
    """Keras's fit: epochs of shuffled mini-batches, callbacks in Keras order, a History.

    validation_split takes the *last* fraction of x/y before shuffling. Training stops
    after the current batch when model.stop_training is set (EarlyStopping) or the loss
    becomes NaN/inf (as TerminateOnNaN, with a message saying so).
    """
    _require_compiled(model)
    x = model.check_input(x)
    y = _as_target_array(y, x)
    verbose = resolve_verbose(verbose)
    batch_size = _batch_size(batch_size)
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    x, y, validation = _split_validation(x, y, validation_split, validation_data)
    if validation is not None:
        model.check_input(validation[0])
    if len(x) == 0:
        raise ValueError(f"fit needs at least one training sample, got x with shape {x.shape}")

    history = callbacks_module.History()
    callback_list = [*(callbacks or []), history]
    batches = _Batches(x, y, batch_size)
    for callback in callback_list:
        callback.set_model(model)
        callback.set_params({"epochs": epochs, "steps": batches.steps, "verbose": verbose})

    model.stop_training = False
    loss_tracker = _RunningMean()
    logs: dict[str, float] = {}
    for callback in callback_list:
        callback.on_train_begin(logs)
    for epoch in range(initial_epoch, epochs):
        _reset_metrics(model)
        loss_tracker = _RunningMean()
        for callback in callback_list:
            callback.on_epoch_begin(epoch, {})
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        progress = ProgressBar(batches.steps, verbose)
        order = global_generator().permutation(len(x)) if shuffle else None
        done = 0
        for step in range(batches.steps):
            for callback in callback_list:
                callback.on_train_batch_begin(step, {})
            xb, yb = batches.get(step, order)
            loss_value, y_pred = _train_step(model, xb, yb)
            loss_tracker.update(loss_value, len(xb))
            _update_metrics(model, yb, y_pred)
            logs = _logs(model, loss_tracker)
            done = step + 1
            for callback in callback_list:
                callback.on_train_batch_end(step, logs)
            progress.update(done, logs)
            if not math.isfinite(loss_value):
                progress.close(done, logs)
                print(
                    f"Batch {step}: invalid loss {loss_value}, terminating training. The weights "
                    "are no longer usable; try a smaller learning rate or check the inputs "
                    "for NaN/inf and their scaling.",
                    file=sys.stdout,
                    flush=True,
                )
                model.stop_training = True
                progress = None
                break
            if model.stop_training:
                break
        epoch_logs = dict(logs)
        if validation is not None and progress is not None:
            val = evaluate(model, *validation, batch_size=batch_size, verbose=0, return_dict=True)
            epoch_logs.update({f"val_{key}": val[key] for key in logs})
        for callback in callback_list:
            callback.on_epoch_end(epoch, epoch_logs)
        if progress is not None:
            progress.close(done, epoch_logs)
        logs = epoch_logs
        if model.stop_training:
            break
    for callback in callback_list:
        callback.on_train_end(logs)
    model.history = history
    return history


# ---------------------------------------------------------------- evaluate / predict


def _results(
    model: Sequential, logs: dict[str, float], return_dict: bool
) -> float | list[float] | dict[str, float]:
    """Keras's return value: the loss alone, [loss, *metrics], or the logs dict."""
    if return_dict:
        return logs
    if not model.metrics:
        return logs["loss"]
    return [logs["loss"], *(logs[metric.name] for metric in model.metrics)]


def evaluate(
    model: Sequential,
    x: object,
    y: object,
    batch_size: int | None = 32,
    verbose: int | str = "auto",
    return_dict: bool = False,
) -> float | list[float] | dict[str, float]:
    """Loss and metrics over x in batches, in inference mode."""
    _require_compiled(model)
    x = model.check_input(x)
    y = _as_target_array(y, x)
    verbose = resolve_verbose(verbose)
    batches = _Batches(x, y, _batch_size(batch_size))
    _reset_metrics(model)
    loss_tracker = _RunningMean()
    progress = ProgressBar(batches.steps, 1 if verbose else 0)
    logs: dict[str, float] = {}
    for step in range(batches.steps):
        xb, yb = batches.get(step, None)
        loss_value, y_pred = _test_step(model, xb, yb)
        loss_tracker.update(loss_value, len(xb))
        _update_metrics(model, yb, y_pred)
        logs = _logs(model, loss_tracker)
        progress.update(step + 1, logs)
    progress.close(batches.steps, logs)
    logs = {key: logs[key] for key in ["loss", *(m.name for m in model.metrics)]}
    return _results(model, logs, return_dict)


def predict(
    model: Sequential, x: object, batch_size: int | None = 32, verbose: int | str = "auto"
) -> np.ndarray:
    """Outputs for every row of x, computed batch by batch into one array."""
    x = model.check_input(x)
    verbose = resolve_verbose(verbose)
    batches = _Batches(x, None, _batch_size(batch_size))
    out_shape = model.layers[-1].output_shape[1:]
    result: np.ndarray | None = None
    progress = ProgressBar(batches.steps, 1 if verbose else 0)
    for step in range(batches.steps):
        xb, _ = batches.get(step, None)
        yb = model.forward(xb, training=False)
        if result is None:
            result = np.empty((len(x), *out_shape), dtype=yb.dtype)
        start = step * batches.batch_size
        result[start : start + len(xb)] = yb
        progress.update(step + 1, {})
    progress.close(batches.steps, {})
    if result is None:
        return np.empty((0, *out_shape), dtype=x.dtype)
    return result


def train_on_batch(
    model: Sequential, x: object, y: object, return_dict: bool = False
) -> float | list[float] | dict[str, float]:
    """One optimizer step on this exact batch (dropout applies); that batch's loss/metrics."""
    _require_compiled(model)
    x = model.check_input(x)
    y = _as_target_array(y, x)
    _reset_metrics(model)
    loss_value, y_pred = _train_step(model, x, y)
    _update_metrics(model, y, y_pred)
    tracker = _RunningMean()
    tracker.update(loss_value, len(x))
    logs = _logs(model, tracker)
    logs = {key: logs[key] for key in ["loss", *(m.name for m in model.metrics)]}
    return _results(model, logs, return_dict)


def evaluate_batch(
    model: Sequential, x: object, y: object, return_dict: bool = False
) -> float | list[float] | dict[str, float]:
    """This batch's loss/metrics in inference mode, nothing updated."""
    _require_compiled(model)
    x = model.check_input(x)
    y = _as_target_array(y, x)
    _reset_metrics(model)
    loss_value, y_pred = _test_step(model, x, y)
    _update_metrics(model, y, y_pred)
    return _results(
        model,
        {"loss": loss_value, **{m.name: float(m.result()) for m in model.metrics}},
        return_dict,
    )
