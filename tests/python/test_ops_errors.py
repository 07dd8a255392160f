"""Bad arguments raise ValueError/TypeError naming the argument and the shapes."""

import numpy as np
import pytest

from cnnkit import _core, ops

X = np.zeros((2, 5, 5, 3), np.float32)
K = np.zeros((3, 3, 3, 4), np.float32)

CASES = [
    (lambda: ops.conv2d(X[0], K), ValueError, r"x must have 4 dimensions \(N, H, W, C\), got shape \(5, 5, 3\)"),
    (lambda: ops.conv2d(X, K[0]), ValueError, r"kernel must have 4 dimensions .* got shape \(3, 3, 4\)"),
    (lambda: ops.conv2d(X, np.zeros((3, 3, 2, 4))), ValueError,
     r"kernel input channels \(kernel shape \(3, 3, 2, 4\)\) must equal the input channels \(x shape \(2, 5, 5, 3\)\)"),
    (lambda: ops.conv2d(X, np.zeros((6, 3, 3, 4))), ValueError,
     r"kernel height 6 .* larger than the input height 5 with padding='valid'"),
    (lambda: ops.conv2d(X, K, dilation_rate=3), ValueError, r"effective 7\) is larger than the input height 5"),
    (lambda: ops.conv2d(X, K, strides=0), ValueError, r"strides must be positive, got 0"),
    (lambda: ops.conv2d(X, K, strides=(1, -2)), ValueError, r"strides must be positive, got \(1, -2\)"),
    (lambda: ops.conv2d(X, K, strides=(1, 2, 3)), ValueError, r"strides must be an int or a tuple of 2 ints"),
    (lambda: ops.conv2d(X, K, padding="full"), ValueError, r"padding must be one of \('valid', 'same'\), got 'full'"),
    (lambda: ops.conv2d(X, K, data_format="nchw"), ValueError, r"data_format must be one of"),
    (lambda: ops.conv2d(X, K, activation="gelu"), ValueError, r"activation must be None, 'linear' or 'relu', got 'gelu'"),
    (lambda: ops.conv2d(X, K, np.zeros(5)), ValueError, r"bias must have shape \(4,\), got \(5,\)"),
    (lambda: ops.conv2d(X, K, dilation_rate=2**40, padding="same"), ValueError, r"dilation height must be between 1 and"),
    (lambda: ops.conv2d(np.zeros((2, 0, 5, 3)), K, padding="same"), ValueError, r"input height must be between 1"),
    (lambda: ops.conv2d(X.astype(complex), K), TypeError, r"x must hold real numbers, got dtype complex128"),
    (lambda: ops.conv2d(np.array([["a"]]), K), TypeError, r"x must hold real numbers"),
    (lambda: ops.conv2d_backward(X, K, np.zeros((2, 3, 3, 5))), ValueError,
     r"grad_output must have shape \(2, 3, 3, 4\), got \(2, 3, 3, 5\)"),
    (lambda: ops.max_pool2d(X, pool_size=(6, 2)), ValueError, r"max_pool2d: kernel height 6 .* larger than the input height 5"),
    (lambda: ops.max_pool2d(X, pool_size=0), ValueError, r"pool_size must be positive"),
    (lambda: ops.avg_pool2d(X, strides=(2,)), ValueError, r"strides must be an int or a tuple of 2 ints"),
    (lambda: ops.max_pool2d_backward(X, np.zeros((2, 2, 2, 4))), ValueError,
     r"grad_output must have shape \(2, 2, 2, 3\), got \(2, 2, 2, 4\)"),
    (lambda: ops.conv1d(X, K), ValueError, r"x must have 3 dimensions \(N, L, C\)"),
    (lambda: ops.max_pool1d(np.zeros((2, 5, 3)), pool_size=(2, 2)), ValueError, r"pool_size must be an int or a tuple of 1 ints"),
    (lambda: ops.dense(np.zeros((2, 3)), np.zeros((4, 5))), ValueError,
     r"x features \(x shape \(2, 3\)\) must equal the kernel's input size \(kernel shape \(4, 5\)\)"),
    (lambda: ops.dense_backward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros((2, 4))), ValueError,
     r"grad_output must have shape \(2, 5\), got \(2, 4\)"),
]


@pytest.mark.parametrize(("call", "error", "message"), CASES, ids=[c[2][:40] for c in CASES])
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_core_validates_its_own_arguments():
    """Called directly, past the Python checks, the extension still refuses bad input."""
    with pytest.raises(ValueError, match=r"x must have 4 dimensions, got shape \(5, 5\)"):
        _core.conv2d_forward(np.zeros((5, 5)), K, None, [1, 1], "valid", [1, 1], False)
    with pytest.raises(ValueError, match=r"strides must have 2 values, got 3"):
        _core.conv2d_forward(X, K, None, [1, 1, 1], "valid", [1, 1], False)
    with pytest.raises(ValueError, match=r"padding must be 'valid' or 'same', got 'nope'"):
        _core.max_pool2d_forward(X, [2, 2], [2, 2], "nope")
    with pytest.raises(TypeError, match=r"x must be a numpy array"):
        _core.max_pool2d_forward([1, 2], [2, 2], [2, 2], "valid")
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ"):
        _core.matmul(np.zeros((2, 3)), np.zeros((4, 2)))
