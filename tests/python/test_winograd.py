"""Winograd convolution seen from Python: accuracy bound, the switch, and the environment variable."""

import os
import subprocess
import sys

import numpy as np
import pytest

import cnnkit
from cnnkit import ops

import reference

# (N, H, W, C, filters, padding, stride): layers where the automatic rule picks F(4x4) and F(2x2),
# and stride-2 layers, which run by phases.
LAYERS = [
    (4, 26, 26, 32, 64, "valid", 1),
    (2, 14, 14, 64, 48, "same", 1),
    (3, 9, 11, 24, 16, "same", 1),
    (2, 28, 28, 32, 24, "same", 2),
    (3, 15, 13, 16, 20, "valid", 2),
]


@pytest.fixture
def restore_winograd():
    yield
    cnnkit.set_winograd(True)


def relative_error(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


def layer_data(n, h, w, c, filters, padding, stride):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, h, w, c))
    kernel = rng.standard_normal((3, 3, c, filters)) / np.sqrt(9 * c)
    bias = rng.standard_normal(filters)
    grad_y = rng.standard_normal(ops.conv2d(x, kernel, strides=stride, padding=padding).shape)
    return x, kernel, bias, grad_y


def test_on_by_default_and_switchable(restore_winograd):
    assert cnnkit.get_winograd() is True
    cnnkit.set_winograd(False)
    assert cnnkit.get_winograd() is False
    with pytest.raises(TypeError):
        cnnkit.set_winograd(1)


@pytest.mark.parametrize("layer", LAYERS)
def test_float32_within_bound_of_float64(layer, restore_winograd):
    x, kernel, bias, grad_y = layer_data(*layer)
    padding, stride = layer[-2:]
    args = {"strides": (stride, stride), "padding": padding}
    exact_y = reference.conv2d(x, kernel, bias, relu=True, **args)
    exact_dx, exact_dk, exact_db = ops.conv2d_backward(x, kernel, grad_y, **args)  # direct

    f32 = [a.astype(np.float32) for a in (x, kernel, bias, grad_y)]
    y = ops.conv2d(*f32[:3], activation="relu", **args)
    dx, dk, db = ops.conv2d_backward(f32[0], f32[1], f32[3], **args)
    assert relative_error(y, exact_y) <= 1e-4
    assert relative_error(dx, exact_dx) <= 1e-4
    assert relative_error(dk, exact_dk) <= 1e-4
    np.testing.assert_allclose(db, exact_db, rtol=1e-5, atol=1e-4)

    cnnkit.set_winograd(False)  # the direct kernels round differently: Winograd was in use
    assert not np.array_equal(ops.conv2d(*f32[:3], activation="relu", **args), y)
    direct_dx, direct_dk, _ = ops.conv2d_backward(f32[0], f32[1], f32[3], **args)
    assert not np.array_equal(direct_dx, dx)
    assert not np.array_equal(direct_dk, dk)


def test_environment_variable_turns_it_off():
    code = (
        "import numpy as np, cnnkit; from cnnkit import ops\n"
        "x = np.random.default_rng(0).standard_normal((2, 12, 12, 32), dtype=np.float32)\n"
        "k = np.random.default_rng(1).standard_normal((3, 3, 32, 32), dtype=np.float32)\n"
        "initial, default = cnnkit.get_winograd(), ops.conv2d(x, k, padding='same')\n"
        "cnnkit.set_winograd(False)\n"
        "print(initial, np.array_equal(default, ops.conv2d(x, k, padding='same')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CNNKIT_WINOGRAD"}

    def run(**extra):
        return subprocess.run([sys.executable, "-c", code], env={**env, **extra}, check=True,
                              capture_output=True, text=True).stdout.split()

    assert run() == ["True", "False"]
    assert run(CNNKIT_WINOGRAD="0") == ["False", "True"]
