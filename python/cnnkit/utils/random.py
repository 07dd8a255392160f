"""The package-wide random generator behind weight init, shuffling and dropout."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Makes weight initialisation, fit's shuffling and unseeded Dropout deterministic.

    Resets the global generator that layers created afterwards, ``fit``'s shuffling and every
    Dropout without its own ``seed`` draw from.
    """
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))


def global_generator() -> np.random.Generator:
    """The generator set by set_random_seed (fresh entropy until it is called)."""
    return _generator
