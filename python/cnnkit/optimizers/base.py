"""Optimizer base: slot state, validation and the legacy ``lr``/``decay`` arguments.

A subclass names its slots (per-parameter state arrays such as momentum) and implements
``update_step``, which holds all of its math, as in Keras. ``apply`` checks the arrays,
creates the slots on the first call from the parameters' shapes and dtypes, and runs
``update_step`` once per parameter, in place.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np


class DefaultFloat(float):
    """A float default that can be told apart from the same value passed explicitly.

    ``SGD(lr=0.1)`` is fine but ``SGD(learning_rate=0.01, lr=0.1)`` is an error; telling the
    two apart needs to know whether ``learning_rate`` was passed at all.
    """


def check_number(name: str, value: Any, low: float = 0.0, high: float = math.inf,
                 high_inclusive: bool = True) -> float:
    """``value`` as a float after checking it is a real number in [low, high] (or [low, high))."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"Invalid value for argument `{name}`: expected a number, "
                        f"received {name}={value!r}")
    value = float(value)
    too_high = value > high if high_inclusive else value >= high
    if not math.isfinite(value) or value < low or too_high:
        closing = "]" if high_inclusive else ")"
        raise ValueError(f"Invalid value for argument `{name}`: expected a value in "
                         f"[{low:g}, {high:g}{closing}, received {name}={value!r}")
    return value


class Optimizer:
    """Base class of cnnkit's optimizers (Keras 3 update rules, numpy in-place updates)."""

    # Names of the per-parameter state arrays, in the order get_state lists them.
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float, decay: float = 0.0, name: str | None = None,
                 **kwargs: Any) -> None:
        legacy_lr = kwargs.pop("lr", None)
        if kwargs:
            raise TypeError(
                f"Unknown argument(s) for {type(self).__name__}: {', '.join(sorted(kwargs))}"
            )
        if legacy_lr is not None:
            if not isinstance(learning_rate, DefaultFloat):
                raise ValueError(
                    f"Pass either `learning_rate` or its legacy alias `lr`, not both "
                    f"(received learning_rate={float(learning_rate)!r}, lr={legacy_lr!r})"
                )
            learning_rate = legacy_lr
        self.learning_rate = learning_rate
        self.decay = check_number("decay", decay)
        self.name = name or type(self).__name__
        self.iterations = 0
        self._slots: dict[str, list[np.ndarray]] | None = None
        self._scratch_buffers: list[list[np.ndarray]] = []

    @property
    def learning_rate(self) -> float:
        """The base learning rate; LearningRateScheduler sets it between epochs."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = check_number("learning_rate", value)

    def current_learning_rate(self) -> float:
        """The rate the next step uses: legacy inverse-time decay lr / (1 + decay * iterations)."""
        return self.learning_rate / (1.0 + self.decay * self.iterations)

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update step, in place on each array of ``params``; increments ``iterations``."""
        params, grads = list(params), list(grads)
        self._check_arrays(params, grads)
        if self._slots is None:
            self._slots = {
                name: [np.full_like(p, self.initial_slot_value(name)) for p in params]
                for name in self.slot_names
            }
        self._check_slots(params)
        learning_rate = self.current_learning_rate()
        for index, (variable, gradient) in enumerate(zip(params, grads)):
            self.update_step(np.asarray(gradient, dtype=variable.dtype), variable,
                             learning_rate, index)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Keras's spelling: ``apply`` on a list of (gradient, variable) pairs."""
        pairs = list(grads_and_vars)
        self.apply([v for _, v in pairs], [g for g, _ in pairs])

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    index: int) -> None:
        """Updates ``variable`` (the parameter at ``index``) in place from ``gradient``."""
        raise NotImplementedError

    def initial_slot_value(self, slot_name: str) -> float:
        """The value a slot starts from (zero unless the optimizer says otherwise)."""
        return 0.0

    def slot(self, name: str, index: int) -> np.ndarray:
        """The state array ``name`` of the parameter at ``index``."""
        assert self._slots is not None
        return self._slots[name][index]

    def scratch(self, variable: np.ndarray, index: int, count: int = 1) -> list[np.ndarray]:
        """Reusable temporaries shaped like ``variable``, so a step allocates nothing."""
        while len(self._scratch_buffers) <= index:
            self._scratch_buffers.append([])
        buffers = self._scratch_buffers[index]
        if buffers and (buffers[0].shape != variable.shape or buffers[0].dtype != variable.dtype):
            buffers.clear()
        while len(buffers) < count:
            buffers.append(np.empty_like(variable, order="C"))
        return buffers[:count]

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able (the current learning rate included)."""
        return {"name": self.name, "learning_rate": self.learning_rate, "decay": self.decay}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        return cls(**config)

    def get_state(self) -> dict[str, np.ndarray]:
        """``iterations`` and every slot array (copies), under flat names like ``momentum/0``."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for name, arrays in (self._slots or {}).items():
            for index, array in enumerate(arrays):
                state[f"{name}/{index}"] = array.copy()
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores what ``get_state`` returned; the optimizer then continues identically."""
        if not isinstance(state, dict) or "iterations" not in state:
            raise ValueError("set_state expects the dict get_state returned, with 'iterations'")
        iterations = np.asarray(state["iterations"])
        # A one-element array is accepted too: some containers cannot store 0-d arrays.
        if iterations.size != 1 or iterations.dtype.kind not in "iu" or iterations.item() < 0:
            raise ValueError(f"state['iterations'] must be a non-negative integer scalar, "
                             f"got {state['iterations']!r}")
        slots = self._slots_from_state(state)
        self.iterations = int(iterations.item())
        self._slots = slots
        self._scratch_buffers = []

    def _slots_from_state(self, state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]] | None:
        found: dict[str, dict[int, np.ndarray]] = {}
        for key, value in state.items():
            if key == "iterations":
                continue
            match = re.fullmatch(r"(\w+)/(\d+)", key)
            if match is None or match.group(1) not in self.slot_names:
                raise ValueError(f"Unexpected key {key!r} in {type(self).__name__} state; "
                                 f"slots are {list(self.slot_names)}")
            array = np.asarray(value)
            if array.dtype not in (np.float32, np.float64):
                raise ValueError(f"state[{key!r}] must be float32 or float64, got {array.dtype}")
            found.setdefault(match.group(1), {})[int(match.group(2))] = array.copy()
        if not found:
            return None
        counts = {name: len(found.get(name, {})) for name in self.slot_names}
        count = max(counts.values())
        for name in self.slot_names:
            if sorted(found.get(name, {})) != list(range(count)):
                raise ValueError(f"{type(self).__name__} state must hold {name}/0 .. "
                                 f"{name}/{count - 1}; found {sorted(found.get(name, {}))}")
        return {name: [found[name][i] for i in range(count)] for name in self.slot_names}

    def _check_arrays(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        if len(params) != len(grads):
            raise ValueError(f"apply got {len(params)} params but {len(grads)} grads")
        for index, (param, grad) in enumerate(zip(params, grads)):
            if not isinstance(param, np.ndarray) or param.dtype not in (np.float32, np.float64):
                raise TypeError(f"params[{index}] must be a float32 or float64 numpy array, "
                                f"got {type(param).__name__} {getattr(param, 'dtype', '')}")
            if not param.flags.writeable:
                raise ValueError(f"params[{index}] is read-only; optimizers update in place")
            if np.shape(grad) != param.shape:
                raise ValueError(f"grads[{index}] shape {np.shape(grad)} does not match "
                                 f"params[{index}] shape {param.shape}")

    def _check_slots(self, params: list[np.ndarray]) -> None:
        assert self._slots is not None
        for name, arrays in self._slots.items():
            if len(arrays) != len(params):
                raise ValueError(f"{type(self).__name__} holds state for {len(arrays)} params "
                                 f"but apply got {len(params)}")
            for index, (array, param) in enumerate(zip(arrays, params)):
                if array.shape != param.shape or array.dtype != param.dtype:
                    raise ValueError(
                        f"{type(self).__name__} slot {name}/{index} is {array.dtype} "
                        f"{array.shape} but params[{index}] is {param.dtype} {param.shape}"
                    )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
