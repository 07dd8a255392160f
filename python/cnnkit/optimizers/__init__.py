"""Optimizers with Keras names, defaults and update rules; ``get``/``serialize``/``deserialize``."""

from __future__ import annotations

from typing import Any

from cnnkit.optimizers.adadelta import Adadelta
from cnnkit.optimizers.adagrad import Adagrad
from cnnkit.optimizers.adam import Adam
from cnnkit.optimizers.base import Optimizer
from cnnkit.optimizers.rmsprop import RMSprop
from cnnkit.optimizers.sgd import SGD

_CLASSES: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, Adam, RMSprop, Adagrad, Adadelta)
}


def _lookup(name: str) -> type[Optimizer]:
    for class_name, cls in _CLASSES.items():
        if class_name.lower() == name.lower():
            return cls
    raise ValueError(
        f"Unknown optimizer {name!r}; known names: "
        f"{', '.join(sorted(n.lower() for n in _CLASSES))}"
    )


def get(identifier: Any) -> Optimizer:
    """An Optimizer from an instance, a name ("sgd", "adam", ...; any case) or a config dict.

    A name gives a fresh optimizer with Keras's default arguments.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(
        f"Could not interpret optimizer identifier {identifier!r}: pass an Optimizer or one of "
        f"{', '.join(sorted(n.lower() for n in _CLASSES))}"
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """A JSON-able description: class name and config (the state goes with get_state)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize expects an Optimizer, got {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """The optimizer ``serialize`` described (fresh state; restore it with set_state)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"deserialize expects {{'class_name': ..., 'config': ...}}, got {config!r}"
        )
    return _lookup(config["class_name"]).from_config(dict(config.get("config", {})))


__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "serialize",
]
