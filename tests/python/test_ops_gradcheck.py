"""Backward ops against float64 central differences of the forward ops.

The scalar objective is sum(y * r) for a fixed random r, so d/dy = r is the grad_output.
Max-pool inputs are well separated so no perturbation changes which element wins.
"""

import numpy as np
import pytest
from op_samples import CONV_SAMPLES, POOL_SAMPLES, distinct_values

from cnnkit import ops

EPS = 1e-6


def numeric_gradient(f, a: np.ndarray, r: np.ndarray, count: int, rng) -> tuple[list, np.ndarray]:
    """Central differences of sum(f(a) * r) at `count` random elements of a."""
    indices = [tuple(int(rng.integers(n)) for n in a.shape) for _ in range(count)]
    grads = []
    for i in indices:
        saved = a[i]
        a[i] = saved + EPS
        up = (f(a) * r).sum()
        a[i] = saved - EPS
        down = (f(a) * r).sum()
        a[i] = saved
        grads.append((up - down) / (2 * EPS))
    return indices, np.array(grads)


def check(analytic: np.ndarray, f, a, r, rng, count=12):
    indices, numeric = numeric_gradient(f, a, r, count, rng)
    got = np.array([analytic[i] for i in indices])
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("sample", CONV_SAMPLES, ids=str)
def test_conv2d_backward(sample, data_format):
    rng = np.random.default_rng(0)
    x, kernel, bias = sample.arrays(rng)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    kw = dict(sample.kwargs(), data_format=data_format)
    y = ops.conv2d(x, kernel, bias, **kw)
    r = rng.standard_normal(y.shape)
    dx, dw, db = ops.conv2d_backward(x, kernel, r, **kw)
    assert dx.shape == x.shape and dw.shape == kernel.shape and db.shape == bias.shape
    check(dx, lambda v: ops.conv2d(v, kernel, bias, **kw), x, r, rng)
    check(dw, lambda v: ops.conv2d(x, v, bias, **kw), kernel, r, rng)
    check(db, lambda v: ops.conv2d(x, kernel, v, **kw), bias, r, rng, count=3)
    skipped, dw_only, db_only = ops.conv2d_backward(x, kernel, r, input_grad=False, **kw)
    assert skipped is None
    np.testing.assert_array_equal(dw_only, dw)
    np.testing.assert_array_equal(db_only, db)


@pytest.mark.parametrize("sample", POOL_SAMPLES, ids=str)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d_backward(sample, op):
    rng = np.random.default_rng(1)
    forward = {"max": ops.max_pool2d, "avg": ops.avg_pool2d}[op]
    backward = {"max": ops.max_pool2d_backward, "avg": ops.avg_pool2d_backward}[op]
    x = distinct_values(sample.x_shape, rng)
    r = rng.standard_normal(forward(x, **sample.kwargs()).shape)
    dx = backward(x, r, **sample.kwargs())
    check(dx, lambda v: forward(v, **sample.kwargs()), x, r, rng)


def test_max_pool_gradient_goes_to_the_first_of_tied_elements():
    x = np.array([[[[3.0], [7.0]], [[7.0], [1.0]]]])  # one 2x2 window, tie between (0,1) and (1,0)
    dx = ops.max_pool2d_backward(x, np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1], [0, 0]])


def test_conv1d_and_pool1d_backward():
    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((2, 13, 3)), rng.standard_normal((4, 3, 5))
    kw = dict(strides=2, padding="same", dilation_rate=1)
    r = rng.standard_normal(ops.conv1d(x, kernel, **kw).shape)
    dx, dw, db = ops.conv1d_backward(x, kernel, r, **kw)
    check(dx, lambda v: ops.conv1d(v, kernel, **kw), x, r, rng)
    check(dw, lambda v: ops.conv1d(x, v, **kw), kernel, r, rng)
    np.testing.assert_allclose(db, r.sum(axis=(0, 1)))
    x = distinct_values((2, 9, 3), rng)
    for forward, backward in [(ops.max_pool1d, ops.max_pool1d_backward),
                              (ops.avg_pool1d, ops.avg_pool1d_backward)]:
        r = rng.standard_normal(forward(x, 3, 2, "same").shape)
        check(backward(x, r, 3, 2, "same"), lambda v, f=forward: f(v, 3, 2, "same"), x, r, rng)


def test_dense_backward():
    rng = np.random.default_rng(3)
    x, kernel, bias = rng.standard_normal((6, 9)), rng.standard_normal((9, 4)), rng.standard_normal(4)
    r = rng.standard_normal((6, 4))
    dx, dw, db = ops.dense_backward(x, kernel, r)
    check(dx, lambda v: ops.dense(v, kernel, bias), x, r, rng)
    check(dw, lambda v: ops.dense(x, v, bias), kernel, r, rng)
    check(db, lambda v: ops.dense(x, kernel, v), bias, r, rng, count=3)
    assert ops.dense_backward(x, kernel, r, input_grad=False)[0] is None
