"""Layers: gradients (float64 central differences), shapes, weights, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest
from cnnkit import layers, regularizers
from cnnkit.layers import (
    Activation,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    ReLU,
    Reshape,
    Softmax,
)
from cnnkit.utils import set_random_seed
from layer_testing import check_gradients

F64 = {"dtype": "float64"}


def _x(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _to_first(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


# ---------------------------------------------------------------- gradient checks

GRADIENT_CASES = {
    "conv2d_relu": (
        lambda f: Conv2D(3, (3, 2), activation="relu", data_format=f, **F64),
        (2, 6, 5, 2),
    ),
    "conv2d_strided_same": (
        lambda f: Conv2D(2, 3, strides=(2, 1), padding="same", data_format=f, **F64),
        (2, 7, 5, 3),
    ),
    "conv2d_dilated_tanh": (
        lambda f: Conv2D(2, 2, dilation_rate=(2, 1), activation="tanh", data_format=f, **F64),
        (1, 6, 5, 2),
    ),
    "conv2d_no_bias_sigmoid": (
        lambda f: Conv2D(2, 3, use_bias=False, activation="sigmoid", data_format=f, **F64),
        (2, 5, 5, 1),
    ),
    "conv1d_relu": (lambda f: Conv1D(3, 3, activation="relu", data_format=f, **F64), (2, 9, 2)),
    "conv1d_same_strided": (
        lambda f: Conv1D(2, 4, strides=2, padding="same", data_format=f, **F64),
        (2, 7, 3),
    ),
    "max_pool2d": (lambda f: MaxPooling2D(data_format=f, **F64), (2, 6, 4, 3)),
    "max_pool2d_same_overlap": (
        lambda f: MaxPooling2D((3, 3), strides=2, padding="same", data_format=f, **F64),
        (2, 7, 6, 2),
    ),
    "avg_pool2d_same": (
        lambda f: AveragePooling2D((3, 2), strides=(2, 2), padding="same", data_format=f, **F64),
        (2, 5, 5, 2),
    ),
    "max_pool1d": (lambda f: MaxPooling1D(3, strides=2, data_format=f, **F64), (2, 9, 2)),
    "avg_pool1d_same": (
        lambda f: AveragePooling1D(2, padding="same", data_format=f, **F64),
        (2, 7, 3),
    ),
    "global_max": (lambda f: GlobalMaxPooling2D(data_format=f, **F64), (2, 4, 3, 5)),
    "global_avg": (lambda f: GlobalAveragePooling2D(data_format=f, **F64), (2, 4, 3, 5)),
    "global_avg_keepdims": (
        lambda f: GlobalAveragePooling2D(data_format=f, keepdims=True, **F64),
        (2, 3, 3, 2),
    ),
    "flatten": (lambda f: Flatten(data_format=f, **F64), (2, 3, 4, 2)),
}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_spatial_layer_gradients(case, data_format):
    make, shape = GRADIENT_CASES[case]
    x = _x(*shape)
    if data_format == "channels_first":
        x = _to_first(x)
    check_gradients(make(data_format), x)


@pytest.mark.parametrize(
    "activation", ["linear", "relu", "sigmoid", "tanh", "elu", "leaky_relu", "softmax"]
)
def test_dense_gradients_every_activation(activation):
    check_gradients(Dense(4, activation=activation, **F64), _x(3, 5))


def test_dense_on_3d_input_acts_on_last_axis():
    layer = Dense(3, activation="tanh", **F64)
    x = _x(2, 4, 5)
    check_gradients(layer, x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(layer(x), np.tanh(x @ kernel + bias))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Activation("relu", **F64),
        lambda: Activation("elu", **F64),
        lambda: Activation("softmax", **F64),
        lambda: ReLU(**F64),
        lambda: ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2, **F64),
        lambda: Softmax(**F64),
        lambda: Softmax(axis=1, **F64),
        lambda: Reshape((5, -1), **F64),
    ],
)
def test_elementwise_and_shape_layer_gradients(make):
    check_gradients(make(), _x(3, 4, 5))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("axis", "shape"), [(-1, (4, 3, 2, 3)), (1, (4, 3, 2, 3)), (-1, (6, 4))])
def test_batch_normalization_gradients(training, axis, shape):
    layer = BatchNormalization(axis=axis, **F64)
    layer.build_for(shape)
    gamma, beta, mean, var = layer.get_weights()
    rng = np.random.default_rng(3)
    layer.set_weights(
        [
            gamma + rng.random(gamma.shape),
            beta + rng.standard_normal(beta.shape),
            rng.standard_normal(mean.shape),
            1 + rng.random(var.shape),
        ]
    )
    check_gradients(layer, _x(*shape), training=training)


def test_batch_normalization_matches_numpy_and_updates_moving_statistics():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3, **F64)
    x = _x(8, 3) * 2 + 5
    y = layer(x, training=True)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    _, _, moving_mean, moving_var = layer.get_weights()
    np.testing.assert_allclose(moving_mean, 0.1 * x.mean(0))
    np.testing.assert_allclose(moving_var, 0.9 + 0.1 * x.var(0))
    np.testing.assert_allclose(
        layer(x, training=False), (x - moving_mean) / np.sqrt(moving_var + 1e-3)
    )
    assert layer.count_params() == 12
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2


def test_l2_regularizer_adds_to_loss_and_gradient():
    reg = regularizers.l2(0.05)
    layer = Dense(3, kernel_regularizer=reg, **F64)
    x = _x(4, 5)
    layer.build_for(x.shape)
    layer.call(x)
    dy = _x(4, 3, seed=2)
    layer.backward(dy)
    kernel = layer.kernel
    np.testing.assert_allclose(layer.grads[0], x.T @ dy + 2 * 0.05 * kernel)
    np.testing.assert_allclose(layer.grads[1], dy.sum(0))
    assert layer.regularization_loss() == pytest.approx(0.05 * np.sum(kernel**2))


# ---------------------------------------------------------------- forward references


def _correlate_reference(x, kernel, bias, stride):
    """Plain-loop float64 'valid' cross-correlation of NHWC x with (kh, kw, c, f) kernel."""
    n, h, w, _ = x.shape
    kh, kw, _, f = kernel.shape
    oh, ow = (h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw, :]
            y[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return y + bias


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward_matches_reference_in_both_formats(dtype):
    x = _x(2, 7, 6, 3).astype(dtype)
    last = Conv2D(4, (3, 2), strides=(2, 1), activation="relu", dtype=dtype)
    y = last(x)
    kernel, bias = last.get_weights()
    bias = bias + 0.1
    last.set_weights([kernel, bias])
    y = last(x)
    assert y.dtype == dtype
    assert y.shape == (2, 3, 5, 4)
    reference = np.maximum(_correlate_reference(x.astype(np.float64), kernel, bias, (2, 1)), 0)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, reference, rtol=tolerance, atol=tolerance)

    first = Conv2D(
        4, (3, 2), strides=(2, 1), activation="relu", data_format="channels_first", dtype=dtype
    )
    first.build_for((None, 3, 7, 6))
    first.set_weights([kernel, bias])
    np.testing.assert_allclose(first(_to_first(x)), _to_first(y), rtol=tolerance, atol=tolerance)


def test_flatten_channels_first_uses_channels_last_order():
    x = _x(2, 3, 4, 5)  # N, H, W, C
    np.testing.assert_array_equal(Flatten(data_format="channels_first")(_to_first(x)), Flatten()(x))


def test_pooling_forward_values():
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(MaxPooling2D()(x)[0, :, :, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(AveragePooling2D()(x)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(GlobalMaxPooling2D()(x), [[15.0]])
    np.testing.assert_array_equal(GlobalAveragePooling2D()(x), [[7.5]])


# ---------------------------------------------------------------- dropout


def test_dropout_is_inverted_and_identity_at_inference():
    layer = Dropout(0.25, seed=3)
    x = np.ones((200, 50), dtype=np.float32)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y = layer(x, training=True)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    dy = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(dy), 2.0 * y)


def test_dropout_seeding():
    x = np.ones((10, 10), dtype=np.float32)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))
    set_random_seed(11)
    first = Dropout(0.5)(x, training=True)
    set_random_seed(11)
    np.testing.assert_array_equal(Dropout(0.5)(x, training=True), first)


# ---------------------------------------------------------------- shapes without data


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        (lambda: Conv2D(32, 3), (None, 28, 28, 1), (None, 26, 26, 32)),
        (lambda: Conv2D(8, 3, strides=2, padding="same"), (None, 7, 6, 3), (None, 4, 3, 8)),
        (lambda: Conv2D(8, 3, dilation_rate=2), (None, 9, 9, 3), (None, 5, 5, 8)),
        (lambda: Conv2D(8, 3, data_format="channels_first"), (None, 3, 9, 7), (None, 8, 7, 5)),
        (lambda: Conv1D(4, 5), (None, 20, 2), (None, 16, 4)),
        (lambda: MaxPooling2D(), (None, 24, 24, 64), (None, 12, 12, 64)),
        (lambda: MaxPooling2D(3, 2, padding="same"), (None, 7, 7, 1), (None, 4, 4, 1)),
        (lambda: AveragePooling2D(), (None, 5, 5, 2), (None, 2, 2, 2)),
        (lambda: AveragePooling1D(), (None, 9, 3), (None, 4, 3)),
        (lambda: GlobalMaxPooling2D(), (None, 5, 5, 7), (None, 7)),
        (lambda: GlobalAveragePooling2D(data_format="channels_first"), (None, 7, 5, 5), (None, 7)),
        (lambda: Flatten(), (None, 12, 12, 64), (None, 9216)),
        (lambda: Dense(128), (None, 9216), (None, 128)),
        (lambda: Reshape((4, -1)), (None, 2, 6), (None, 4, 3)),
        (lambda: Dropout(0.5), (None, 3), (None, 3)),
        (lambda: BatchNormalization(), (None, 4, 4, 3), (None, 4, 4, 3)),
    ],
)
def test_output_shape_without_data(layer, input_shape, expected):
    built = layer()
    built.build_for(input_shape)
    assert built.output_shape == expected


@pytest.mark.parametrize(
    ("layer", "counts"),
    [
        (lambda: Conv2D(32, 3), [(3, 3, 1, 32), (32,)]),
        (lambda: Conv2D(32, 3, use_bias=False), [(3, 3, 1, 32)]),
        (lambda: Conv1D(4, 5), [(5, 1, 4), (4,)]),
        (lambda: Dense(7), [(1, 7), (7,)]),
        (lambda: BatchNormalization(), [(1,)] * 4),
    ],
)
def test_keras_weight_layouts(layer, counts):
    built = layer()
    shape = (None, 20, 1) if isinstance(built, Conv1D) else (None, 6, 6, 1)
    if isinstance(built, Dense):
        shape = (None, 1)
    built.build_for(shape)
    assert [w.shape for w in built.get_weights()] == counts


def test_get_set_weights_round_trip_and_in_place_update():
    layer = Conv2D(4, 3)
    layer.build_for((None, 8, 8, 2))
    kernel_array = layer.kernel
    new = [np.random.default_rng(0).standard_normal(w.shape) for w in layer.get_weights()]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want.astype(np.float32))
    assert layer.kernel is kernel_array  # the optimizer's arrays stay the same objects
    with pytest.raises(
        ValueError, match=r"weight 0 has shape \(3, 3, 2, 4\), got an array of shape \(3, 3, 1, 4\)"
    ):
        layer.set_weights([np.zeros((3, 3, 1, 4)), np.zeros(4)])
    with pytest.raises(ValueError, match="expects 2 weight arrays, got 1"):
        layer.set_weights([np.zeros((3, 3, 2, 4))])


# ---------------------------------------------------------------- errors


def test_wrong_input_shape_names_expected_and_received():
    layer = Conv2D(4, 3)
    layer(np.zeros((1, 8, 8, 2), np.float32))
    with pytest.raises(
        ValueError, match=r"expected shape=\(None, 8, 8, 2\), found shape=\(1, 8, 8, 3\)"
    ):
        layer(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(
        ValueError,
        match=r"must be 4-D \(batch, rows, cols, channels\); received input_shape=\(None, 8, 8\)",
    ):
        Conv2D(4, 3)(np.zeros((1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"larger than the input \(2, 2\)"):
        Conv2D(4, 3)(np.zeros((1, 2, 2, 1), np.float32))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(0, 3), "Received filters=0"),
        (lambda: Conv2D(4, (3, 3, 3)), r"Received kernel_size=\(3, 3, 3\)"),
        (lambda: Conv2D(4, 3, padding="full"), "Received padding='full'"),
        (lambda: Conv2D(4, 3, data_format="nhwc"), "Received data_format='nhwc'"),
        (lambda: Conv2D(4, 3, activation="swishy"), "Unknown activation 'swishy'"),
        (lambda: Conv2D(4, 3, kernel_initializer="random"), "Unknown initializer 'random'"),
        (lambda: MaxPooling2D(pool_size=0), "Received pool_size=0"),
        (lambda: Dense(-1), "Received units=-1"),
        (lambda: Dropout(1.0), "Received rate=1.0"),
        (lambda: Reshape((-1, -1)), "at most one -1"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---------------------------------------------------------------- names, initializers, configs


def test_keras_style_unique_names():
    layers.reset_names()
    assert [Conv2D(1, 1).name, Conv2D(1, 1).name, Conv2D(1, 1).name] == [
        "conv2d",
        "conv2d_1",
        "conv2d_2",
    ]
    assert MaxPooling2D().name == "max_pooling2d"
    assert GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert BatchNormalization().name == "batch_normalization"
    assert ReLU().name == "re_lu"
    assert Dense(1, name="head").name == "head"


def test_array_kernel_initializer_for_single_channel_filters():
    sobel = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    layer = Conv2D(1, 3, kernel_initializer=sobel, use_bias=False, dtype="float64")
    image = _x(1, 6, 6, 1)
    y = layer(image)
    np.testing.assert_allclose(y, _correlate_reference(image, sobel.reshape(3, 3, 1, 1), 0, (1, 1)))
    full = Conv2D(1, 3, kernel_initializer=sobel.reshape(3, 3, 1, 1))
    full.build_for((None, 6, 6, 1))
    np.testing.assert_array_equal(full.kernel[..., 0, 0], sobel)
    with pytest.raises(
        ValueError, match=r"array has shape \(3, 3\), but the weight has shape \(3, 3, 2, 1\)"
    ):
        Conv2D(1, 3, kernel_initializer=sobel).build_for((None, 6, 6, 2))


def test_glorot_uniform_uses_keras_conv_fans_and_he_normal_is_truncated():
    set_random_seed(0)
    layer = Conv2D(64, 3)
    layer.build_for((None, 10, 10, 32))
    limit = np.sqrt(6 / (9 * 32 + 9 * 64))
    kernel = layer.kernel
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.99 * limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    np.testing.assert_array_equal(layer.bias, 0)

    he = Dense(400, kernel_initializer="he_normal")
    he.build_for((None, 300))
    std = np.sqrt(2 / 300)
    assert np.abs(he.kernel).max() <= 2 * std / 0.87962566103423978
    assert he.kernel.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Conv2D(
            3,
            (3, 2),
            strides=2,
            padding="same",
            activation="relu",
            kernel_regularizer=regularizers.L2(0.1),
        ),
        lambda: Conv1D(2, 3, dilation_rate=2, data_format="channels_first"),
        lambda: MaxPooling2D((3, 3), strides=1, padding="same"),
        lambda: AveragePooling1D(3),
        lambda: Dense(5, activation="softmax", use_bias=False),
        lambda: Dropout(0.3, seed=4),
        lambda: BatchNormalization(axis=1, momentum=0.9),
        lambda: ReLU(max_value=6.0),
        lambda: Softmax(axis=1),
        lambda: Reshape((2, -1)),
        lambda: Flatten(data_format="channels_first"),
        lambda: GlobalMaxPooling2D(keepdims=True),
        lambda: Activation("tanh"),
    ],
)
def test_config_round_trip(make):
    layer = make()
    rebuilt = layers.deserialize(layers.serialize(layer))
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()


def test_deserialize_rejects_unknown_classes():
    with pytest.raises(ValueError, match="Unknown layer class 'Lambda'"):
        layers.deserialize({"class_name": "Lambda", "config": {}})


def test_integer_input_is_cast_to_float32():
    y = Flatten()(np.ones((2, 3, 3), dtype=np.uint8))
    assert y.dtype == np.float32
