"""Denormals: the kernels read and write them as zero; numpy on the calling thread keeps them."""

import numpy as np
import pytest

import cnnkit
from cnnkit import image, ops, signal


@pytest.fixture
def restore_threads():
    saved = cnnkit.get_num_threads()
    yield
    cnnkit.set_num_threads(saved)


def numpy_makes_denormals() -> bool:
    """Whether this thread computes denormal results instead of flushing them to zero."""
    return bool(np.float32(1e-38) / np.float32(1000) != 0) and bool(np.float64(1e-308) / 1000 != 0)


def every_op(rng: np.random.Generator) -> list:
    """A call of each public op that reaches a kernel, on ordinary float32 data."""
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    grad = rng.standard_normal((2, 7, 6, 4)).astype(np.float32)
    pooled = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    features = rng.standard_normal((5, 7)).astype(np.float32)
    weights = rng.standard_normal((7, 3)).astype(np.float32)
    picture = rng.standard_normal((300, 200)).astype(np.float32)  # large enough to go parallel
    return [
        lambda: ops.conv2d(x, kernel, activation="relu"),
        lambda: ops.conv2d_backward(x, kernel, grad),
        lambda: ops.max_pool2d(x),
        lambda: ops.max_pool2d_backward(x, pooled),
        lambda: ops.avg_pool2d(x),
        lambda: ops.avg_pool2d_backward(x, pooled),
        lambda: ops.dense(features, weights),
        lambda: ops.dense_backward(features, weights, features @ weights),
        lambda: image.correlate2d(picture[:20, :20], np.ones((3, 3))),
        lambda: image.convolve2d(picture, np.ones((5, 5))),
        lambda: signal.convolve(picture[0], np.ones(4)),
    ]


@pytest.mark.parametrize("threads", [1, 2])
def test_numpy_still_makes_denormals_after_every_op(threads, restore_threads):
    cnnkit.set_num_threads(threads)
    assert numpy_makes_denormals()
    for index, call in enumerate(every_op(np.random.default_rng(0))):
        call()
        assert numpy_makes_denormals(), f"op {index} left flush-to-zero on in the caller"


def test_denormal_inputs_count_as_zero():
    # Every input is a denormal float32 and every weight 2^100: exact products are about 1e-10,
    # far from zero, but the kernels read the inputs as zero.
    rng = np.random.default_rng(1)
    x = (rng.uniform(1, 2, (1, 6, 6, 2)) * 2.0**-135).astype(np.float32)
    kernel = np.full((3, 3, 2, 3), 2.0**100, np.float32)
    assert np.all(x != 0)
    assert np.all(np.abs(x) < np.finfo(np.float32).tiny)
    exact = np.einsum("hwc,hwco->o", x[0, :3, :3].astype(np.float64), kernel.astype(np.float64))
    assert np.all(exact > 1e-11)
    np.testing.assert_array_equal(ops.conv2d(x, kernel), np.zeros((1, 4, 4, 3), np.float32))
    features = x.reshape(2, 36)
    weights = np.full((36, 5), 2.0**100, np.float32)
    np.testing.assert_array_equal(ops.dense(features, weights), np.zeros((2, 5), np.float32))


def test_denormal_results_are_flushed():
    # Each product is 2^-140, a denormal in float32: numpy keeps it, the kernels return zero.
    x = np.full((1, 5, 5, 4), 2.0**-70, np.float32)
    kernel = np.full((3, 3, 4, 2), 2.0**-70, np.float32)
    assert np.float32(2.0**-70) * np.float32(2.0**-70) != 0
    np.testing.assert_array_equal(ops.conv2d(x, kernel), np.zeros((1, 3, 3, 2), np.float32))
