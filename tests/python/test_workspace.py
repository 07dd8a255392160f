"""Kernel scratch memory comes from per-thread arenas: a repeated training step allocates none."""

import subprocess
import sys

import numpy as np
import pytest

import cnnkit
from cnnkit import _core
from cnnkit.layers import AveragePooling2D, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical


@pytest.fixture
def restore_threads():
    saved = cnnkit.get_num_threads()
    yield
    cnnkit.set_num_threads(saved)


def _model() -> Sequential:
    model = Sequential(
        [
            Input((12, 12, 3)),
            Conv2D(5, 3, activation="relu"),  # 5 filters: gradients padded to whole blocks
            MaxPooling2D(),
            Conv2D(16, 3, padding="same"),
            AveragePooling2D(),
            Flatten(),
            Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer=SGD(learning_rate=0.01), loss="categorical_crossentropy")
    return model


@pytest.mark.parametrize("threads", [1, 2])
def test_second_training_step_allocates_no_kernel_workspace(threads, restore_threads):
    cnnkit.set_num_threads(threads)
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 12, 12, 3)).astype(np.float32)
    y = to_categorical(rng.integers(0, 4, 6), 4)
    model = _model()
    first = model.train_on_batch(x, y)
    before = _core.workspace_allocations()
    second = model.train_on_batch(x, y)
    assert _core.workspace_allocations() == before
    assert np.isfinite(first)
    assert second != first  # the step did run: the weights changed in between


def test_allocation_count_starts_at_zero_and_counts_growth():
    code = (
        "import numpy as np; from cnnkit import _core, ops\n"
        "print(_core.workspace_allocations())\n"
        "ops.conv2d(np.ones((2, 8, 8, 3), np.float32), np.ones((3, 3, 3, 4), np.float32))\n"
        "print(_core.workspace_allocations())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert int(out[0]) == 0
    assert int(out[1]) > 0
