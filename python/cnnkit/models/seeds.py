"""The lecture's two Keras example networks, used by `cnnkit train` and `cnnkit summary`."""

from __future__ import annotations

from collections.abc import Sequence

from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from cnnkit.models.sequential import Sequential

__all__ = ["SEED_MODELS", "seed_a", "seed_b"]


def seed_a(input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10) -> Sequential:
    """The lecture's first example (Keras's mnist_cnn): 1,199,882 parameters on 28x28x1."""
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=tuple(input_shape)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))
    return model


def seed_b(input_shape: Sequence[int] = (100, 100, 3), num_classes: int = 10) -> Sequential:
    """The lecture's second example (VGG-like): 7,998,250 parameters on 100x100x3."""
    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=tuple(input_shape)))
    model.add(Conv2D(32, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(256, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))
    return model


SEED_MODELS = {"seed-a": seed_a, "seed-b": seed_b}
