"""The ReLU gradient: the compiled pass against its definition, dy * (y > 0), bit for bit."""

import numpy as np
import pytest

from cnnkit import _core, activations


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0,), (1,), (7, 3), (128, 13, 13, 33), (2, 40000)])
def test_relu_backward_matches_definition_bitwise(dtype, shape):
    rng = np.random.default_rng(3)
    y = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    y.flat[::5] = -0.0
    dy = rng.standard_normal(shape).astype(dtype)
    expected = np.multiply(dy, y > 0)
    got = activations.relu_backward(y, dy)
    assert got.dtype == dtype and got.shape == shape
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))  # signs of zero too
    out = np.full(shape, 7, dtype)
    assert activations.relu_backward(y, dy, out=out) is out
    assert np.array_equal(out, expected)


def test_relu_backward_in_place_and_non_contiguous_inputs():
    rng = np.random.default_rng(4)
    y = rng.standard_normal((6, 8), dtype=np.float32)[:, ::2]
    dy = rng.standard_normal((6, 4), dtype=np.float32)
    expected = np.multiply(dy, y > 0)
    assert np.array_equal(activations.relu_backward(y, dy, out=dy), expected)


def test_relu_backward_keeps_nan_gradients_and_blocks_nan_outputs():
    y = np.array([np.nan, -1.0, 2.0, 0.0], np.float32)
    dy = np.array([1.0, np.nan, np.nan, 3.0], np.float32)
    got = activations.relu_backward(y, dy)
    np.testing.assert_array_equal(got, np.multiply(dy, y > 0))  # [0, nan, nan, 0]


def test_relu_backward_mixed_dtypes_follow_numpy_promotion():
    y = np.array([1.0, -1.0], np.float32)
    dy = np.array([2.0, 2.0], np.float64)
    got = activations.relu_backward(y, dy)
    assert got.dtype == np.float64 and got.tolist() == [2.0, 0.0]


def test_compiled_relu_backward_rejects_bad_arguments():
    y = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 3\), got \(3, 2\)"):
        _core.relu_backward(y, np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"out must have shape \(2, 3\), got \(6,\)"):
        _core.relu_backward(y, y, np.empty(6, np.float32))
    with pytest.raises(TypeError, match="relu_backward: out must be a numpy array of float32"):
        _core.relu_backward(y, y, np.empty((2, 3), np.float64))
    with pytest.raises(ValueError, match="out must be C-contiguous and writeable"):
        _core.relu_backward(y, y, np.empty((3, 2), np.float32).T)
    read_only = np.empty((2, 3), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out must be C-contiguous and writeable"):
        _core.relu_backward(y, y, read_only)
    with pytest.raises(TypeError, match="must be numpy arrays"):
        _core.relu_backward([1.0], y)
