"""Any memory order gives the same results: Fortran order, strided and negative-stride views."""

import numpy as np
import pytest

from cnnkit import ops


def layouts(a: np.ndarray):
    """The same values in other memory orders."""
    padded = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), a.dtype)
    padded[..., ::2] = a
    flipped = np.ascontiguousarray(a[:, ::-1])[:, ::-1]
    return {
        "fortran": np.asfortranarray(a),
        "strided": padded[..., ::2],
        "negative": flipped,
        "transposed": np.ascontiguousarray(a.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3),
    }


@pytest.mark.parametrize("layout", ["fortran", "strided", "negative", "transposed"])
def test_conv_and_pool_accept_any_memory_order(layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3)).astype("f")
    kernel = rng.standard_normal((3, 2, 3, 4)).astype("f")
    dy = rng.standard_normal((2, 4, 3, 4)).astype("f")
    args = dict(strides=(2, 2), padding="same")
    x_view, kernel_view, dy_view = (layouts(a)[layout] for a in (x, kernel, dy))
    assert not (x_view.flags.c_contiguous and kernel_view.flags.c_contiguous)
    np.testing.assert_array_equal(ops.conv2d(x_view, kernel_view, **args), ops.conv2d(x, kernel, **args))
    for got, want in zip(ops.conv2d_backward(x_view, kernel_view, dy_view, **args),
                         ops.conv2d_backward(x, kernel, dy, **args)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ops.max_pool2d(x_view), ops.max_pool2d(x))
    np.testing.assert_array_equal(ops.avg_pool2d(x_view, padding="same"),
                                  ops.avg_pool2d(x, padding="same"))


def test_inputs_are_never_modified():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 5, 5, 2))
    kernel = rng.standard_normal((3, 3, 2, 2))
    dy = rng.standard_normal((1, 3, 3, 2))
    copies = [a.copy() for a in (x, kernel, dy)]
    ops.conv2d(x, kernel, activation="relu")
    ops.conv2d_backward(x, kernel, dy)
    ops.max_pool2d_backward(x, rng.standard_normal((1, 2, 2, 2)))
    for a, b in zip((x, kernel, dy), copies):
        np.testing.assert_array_equal(a, b)
