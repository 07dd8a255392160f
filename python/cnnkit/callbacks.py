"""Training callbacks with Keras names, arguments and behaviour.

``fit`` calls ``set_model``, ``set_params`` and then the hooks in Keras order:
on_train_begin, per epoch on_epoch_begin, per batch on_train_batch_begin/_end, on_epoch_end
(with "loss", each metric and the "val_" twins in ``logs``), and on_train_end. A callback
stops training by setting ``self.model.stop_training = True``.
"""

from __future__ import annotations

import csv
import inspect
import math
import numbers
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


class Callback:
    """Base class: every hook does nothing; subclasses override the ones they need."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """``params`` holds at least epochs, steps (batches per epoch) and verbose."""
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Keras's older per-batch hook names stay usable through these aliases.
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass


class History(Callback):
    """Records every epoch's logs: ``history[key]`` is the list of that key's values."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


_LOWER_IS_BETTER = {"loss", "mse", "mae", "mean_squared_error", "mean_absolute_error"}


def _monitor_op(callback: str, monitor: str, mode: str,
                model: Any) -> Callable[[float, float], bool]:
    """``np.less`` or ``np.greater``: whether a new value of ``monitor`` beats the reference.

    mode "auto" decides from the name: losses and errors are minimised, accuracies
    maximised; otherwise a model metric's own direction, else an error asking for a mode.
    """
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    name = monitor.removeprefix("val_")
    if name in _LOWER_IS_BETTER or name.endswith("_loss"):
        return np.less
    if "acc" in name:
        return np.greater
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
            return np.greater if metric._direction == "up" else np.less
    raise ValueError(
        f"{callback} received monitor={monitor!r} but cannot tell whether it should be "
        "maximised or minimised: pass mode='max' or mode='min'"
    )


def _check_mode(mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"Invalid value for argument `mode`: expected 'auto', 'min' or 'max', "
                         f"received mode={mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has stopped improving for ``patience`` epochs.

    An improvement must beat the best value by more than ``min_delta``. With a
    ``baseline``, training stops after ``patience`` epochs that do not beat the baseline.
    Epochs before ``start_from_epoch`` are ignored. ``restore_best_weights`` puts back the
    weights of the best epoch when training ends.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        if not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"Invalid value for argument `patience`: expected an integer >= 0, "
                             f"received patience={patience!r}")
        if not isinstance(start_from_epoch, numbers.Integral) or start_from_epoch < 0:
            raise ValueError(f"Invalid value for argument `start_from_epoch`: expected an "
                             f"integer >= 0, received start_from_epoch={start_from_epoch!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _check_mode(mode)
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.monitor_op: Callable[[float, float], bool] | None = None
        self.on_train_begin()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Reset so one instance can serve several fit calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.monitor_op is None:
            self.monitor_op = _monitor_op("EarlyStopping", self.monitor, self.mode, self.model)
        current = _monitor_value("EarlyStopping", self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Only a value that also beats the baseline restarts the patience count.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        assert self.monitor_op is not None
        delta = -self.min_delta if self.monitor_op is np.less else self.min_delta
        return bool(self.monitor_op(value - delta, reference))


def _monitor_value(callback: str, monitor: str, logs: dict[str, Any] | None) -> float | None:
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{callback} is conditioned on metric `{monitor}` which is not available. "
            f"Available metrics are: {', '.join(logs)}",
            stacklevel=3,
        )
        return None
    return float(value)


class ModelCheckpoint(Callback):
    """Saves the model with ``model.save`` at the end of each epoch.

    ``filepath`` may contain ``{epoch}`` (1-based, as in Keras: ``{epoch:02d}``) and any
    log key (``{val_loss:.2f}``). With ``save_best_only`` the model is saved only when
    ``monitor`` improves on the best value so far (``initial_value_threshold`` seeds it).
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False, mode: str = "auto",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.mode = _check_mode(mode)
        self.best = initial_value_threshold
        self.monitor_op: Callable[[float, float], bool] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, logs)
        if not self.save_best_only:
            self._save(filepath)
            return
        if self.monitor_op is None:
            self.monitor_op = _monitor_op("ModelCheckpoint", self.monitor, self.mode, self.model)
        current = _monitor_value("ModelCheckpoint", self.monitor, logs)
        if current is None:
            return
        if self.best is None or self.monitor_op(current, self.best):
            if self.verbose > 0:
                previous = "None" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            self._save(filepath)
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")

    def _file_path(self, epoch: int, logs: dict[str, Any]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"Failed to format ModelCheckpoint filepath {self.filepath!r}: {error!r}; "
                f"available keys are epoch, {', '.join(logs)}"
            ) from error

    def _save(self, filepath: str) -> None:
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.model.save(filepath)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch.

    ``schedule(epoch, lr)`` (or ``schedule(epoch)``) gets the 0-based epoch and the current
    rate and returns the new rate. The rate in force is added to the epoch's logs as
    "learning_rate", so History records it.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('The model\'s optimizer must have a "learning_rate" attribute.')
        current = float(optimizer.learning_rate)
        rate = self.schedule(epoch, current) if self._takes_lr else self.schedule(epoch)
        if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, numbers.Real) \
                or not math.isfinite(rate):
            raise ValueError(f"The output of the `schedule` function should be a finite float. "
                             f"Got: {rate!r}")
        optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(rate)}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _positional_arity(function: Callable[..., Any]) -> int:
    """How many positional arguments ``function`` accepts (a large number for ``*args``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return 1 << 30
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class CSVLogger(Callback):
    """Streams each epoch's logs to a CSV file: an "epoch" column, then the keys sorted.

    As Keras does, when the first epoch has no "val_" keys the "val_" twins of every key
    are added as columns (written "NA" while absent). ``append=True`` continues an existing
    file, writing the header only if the file is empty.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a single character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: csv.DictWriter[str] | None = None
        self._write_header = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as existing:
                self._write_header = not existing.readline()
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += ["val_" + key for key in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.sep)
            if self._write_header:
                self._writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None


def _csv_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if (isinstance(value, np.ndarray) and value.ndim > 0) or isinstance(value, (list, tuple)):
        return f"[{', '.join(map(str, value))}]"
    return value


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "TerminateOnNaN",
]
