"""cnnkit.ops forward passes against the independent numpy float64 reference."""

import numpy as np
import pytest
import reference
from op_samples import CONV_SAMPLES, POOL_SAMPLES

from cnnkit import ops

RTOL = {np.float32: 1e-4, np.float64: 1e-12}


def close(actual, expected, dtype):
    scale = 1 + np.abs(expected).max(initial=0)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=RTOL[dtype] * scale)


def test_same_padding_counts_neighbourhoods():
    y = ops.conv2d(np.ones((1, 5, 5, 1), "f"), np.ones((3, 3, 1, 1), "f"), padding="same")
    expected = np.array(
        [[4, 6, 6, 6, 4], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [4, 6, 6, 6, 4]]
    )
    np.testing.assert_array_equal(y[0, :, :, 0], expected)
    assert y.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sample", CONV_SAMPLES, ids=str)
def test_conv2d_matches_reference(sample, dtype):
    rng = np.random.default_rng(0)
    x, kernel, bias = sample.arrays(rng, dtype)
    expected = reference.conv2d(
        x, kernel, bias, sample.strides, sample.padding, sample.dilation, relu=True
    )
    y = ops.conv2d(x, kernel, bias, activation="relu", **sample.kwargs())
    assert y.dtype == dtype
    close(y, expected, dtype)


@pytest.mark.parametrize("sample", CONV_SAMPLES, ids=str)
def test_conv2d_channels_first_gives_the_same_numbers(sample):
    rng = np.random.default_rng(1)
    x, kernel, _ = sample.arrays(rng)
    nhwc = ops.conv2d(x, kernel, **sample.kwargs())
    nchw = ops.conv2d(x.transpose(0, 3, 1, 2), kernel, data_format="channels_first", **sample.kwargs())
    np.testing.assert_array_equal(nchw, nhwc.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sample", POOL_SAMPLES, ids=str)
def test_pooling_matches_reference(sample, dtype):
    x = np.random.default_rng(2).standard_normal(sample.x_shape).astype(dtype)
    args = (sample.pool, sample.steps, sample.padding)
    y = ops.max_pool2d(x, **sample.kwargs())
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, reference.max_pool2d(x, *args).astype(dtype))
    close(ops.avg_pool2d(x, **sample.kwargs()), reference.avg_pool2d(x, *args), dtype)
    nchw = ops.max_pool2d(x.transpose(0, 3, 1, 2), data_format="channels_first", **sample.kwargs())
    np.testing.assert_array_equal(nchw, y.transpose(0, 3, 1, 2))


def test_conv1d_is_conv2d_on_a_height_one_image():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 17, 4))
    kernel = rng.standard_normal((5, 4, 6))
    bias = rng.standard_normal(6)
    y = ops.conv1d(x, kernel, bias, strides=2, padding="same", dilation_rate=2)
    expected = reference.conv2d(x[:, None], kernel[None], bias, (1, 2), "same", (1, 2))[:, 0]
    assert y.shape == (3, 9, 6)
    close(y, expected, np.float64)
    first = ops.conv1d(x.transpose(0, 2, 1), kernel, bias, strides=2, padding="same",
                       dilation_rate=2, data_format="channels_first")
    np.testing.assert_array_equal(first, y.transpose(0, 2, 1))


def test_pool1d_matches_reference():
    x = np.random.default_rng(4).standard_normal((2, 11, 3))
    y = ops.max_pool1d(x, pool_size=3, strides=2, padding="same")
    np.testing.assert_array_equal(y, reference.max_pool2d(x[:, None], (1, 3), (1, 2), "same")[:, 0])
    y = ops.avg_pool1d(x)  # pool 2, strides = pool
    close(y, reference.avg_pool2d(x[:, None], (1, 2), (1, 2), "valid")[:, 0], np.float64)


def test_dense_matches_numpy():
    rng = np.random.default_rng(5)
    x, kernel, bias = rng.standard_normal((7, 13)), rng.standard_normal((13, 5)), rng.standard_normal(5)
    close(ops.dense(x, kernel, bias), x @ kernel + bias, np.float64)
    close(ops.dense(x, kernel, bias, activation="relu"), np.maximum(x @ kernel + bias, 0), np.float64)


def test_padded_cells_never_win_a_max_nor_count_in_an_average():
    x = -np.arange(1, 5, dtype=np.float32).reshape(1, 2, 2, 1)  # all negative
    y = ops.max_pool2d(x, pool_size=3, strides=1, padding="same")
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -1], [-1, -1]])
    y = ops.avg_pool2d(x, pool_size=3, strides=1, padding="same")
    np.testing.assert_array_equal(y[0, :, :, 0], [[-2.5, -2.5], [-2.5, -2.5]])


def test_dtype_rules():
    x32 = np.ones((1, 4, 4, 2), np.float32)
    k64 = np.ones((2, 2, 2, 3), np.float64)
    assert ops.conv2d(x32, k64).dtype == np.float64  # mixed -> float64
    assert ops.conv2d(x32.astype(np.uint8), k64.astype(np.float32)).dtype == np.float32
    assert ops.max_pool2d(np.ones((1, 4, 4, 1), bool)).dtype == np.float32
    y = ops.conv2d(np.ones((1, 3, 3, 1), np.int64), np.ones((3, 3, 1, 1), np.int32))
    assert y.dtype == np.float32 and y.item() == 9


def test_empty_batch_gives_an_empty_result_of_the_right_shape():
    y = ops.conv2d(np.zeros((0, 6, 6, 2), "f"), np.ones((3, 3, 2, 4), "f"), strides=2, padding="same")
    assert y.shape == (0, 3, 3, 4)
    dx, dw, db = ops.conv2d_backward(np.zeros((0, 6, 6, 2)), np.ones((3, 3, 2, 4)), np.zeros((0, 4, 4, 4)))
    assert dx.shape == (0, 6, 6, 2) and not dw.any() and not db.any()
    assert ops.max_pool2d(np.zeros((0, 4, 4, 3))).shape == (0, 2, 2, 3)
