"""feature_maps: equal to running the layers by hand, in one pass, layers picked every way."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import layers
from cnnkit.models import Sequential
from cnnkit.visualize import feature_maps


def _model() -> Sequential:
    return Sequential(
        [
            layers.Input((10, 9, 2)),
            layers.Conv2D(3, 3, activation="relu", name="c1"),
            layers.MaxPooling2D(2, name="p1"),
            layers.Dropout(0.5, name="drop"),
            layers.Conv2D(4, 2, padding="same", name="c2"),
            layers.AveragePooling2D(2, name="p2"),
            layers.Flatten(name="flat"),
            layers.Dense(5, activation="softmax", name="out"),
        ]
    )


def _by_hand(model: Sequential, x: np.ndarray) -> dict[str, np.ndarray]:
    outputs = {}
    for layer in model.layers:
        x = layer(x)  # inference: Dropout passes its input through
        outputs[layer.name] = x
    return outputs


def test_default_is_every_conv_and_pooling_layer_equal_to_manual_run() -> None:
    model = _model()
    x = np.random.default_rng(0).uniform(0, 1, (6, 10, 9, 2)).astype(np.float32)
    expected = _by_hand(model, x)
    maps = feature_maps(model, x)
    assert list(maps) == ["c1", "p1", "c2", "p2"]
    for name, value in maps.items():
        np.testing.assert_array_equal(value, expected[name])
    assert maps["c2"].shape == (6, 4, 3, 4)


def test_layers_by_name_index_and_object_in_the_order_given() -> None:
    model = _model()
    x = np.random.default_rng(1).uniform(0, 1, (2, 10, 9, 2)).astype(np.float32)
    expected = _by_hand(model, x)
    maps = feature_maps(model, x, layers=["out", 0, model.layers[3], "c1", -3])
    assert list(maps) == ["out", "c1", "c2", "p2"]
    for name, value in maps.items():
        np.testing.assert_array_equal(value, expected[name])
    assert list(feature_maps(model, x, layers="p1")) == ["p1"]


def test_one_forward_pass_stopping_at_the_deepest_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    calls = {layer.name: 0 for layer in model.layers}
    for layer in model.layers:
        original = layer.call

        def counting(x, training=False, _name=layer.name, _call=original):
            calls[_name] += 1
            return _call(x, training=training)

        monkeypatch.setattr(layer, "call", counting)
    feature_maps(model, np.zeros((3, 10, 9, 2)), layers=["c1", "p1", "c2"])
    assert calls == {"c1": 1, "p1": 1, "drop": 1, "c2": 1, "p2": 0, "flat": 0, "out": 0}


def test_uint8_images_and_channels_first() -> None:
    x = np.random.default_rng(2).integers(0, 256, (2, 1, 8, 8), dtype=np.uint8)
    model = Sequential(
        [
            layers.Input((1, 8, 8)),
            layers.Conv2D(2, 3, data_format="channels_first", name="cf"),
        ]
    )
    maps = feature_maps(model, x)
    assert maps["cf"].shape == (2, 2, 6, 6)
    np.testing.assert_array_equal(maps["cf"], model.layers[0](x.astype(np.float32)))


def test_errors_name_the_problem() -> None:
    model = _model()
    x = np.zeros((1, 10, 9, 2))
    with pytest.raises(ValueError, match=r'No layer named "c9" in the model; its layers are \[.c1'):
        feature_maps(model, x, layers=["c9"])
    with pytest.raises(ValueError, match="layer index -9 is out of range"):
        feature_maps(model, x, layers=[-9])
    stranger = layers.Conv2D(1, 3, name="stranger")
    with pytest.raises(ValueError, match='layer "stranger" is not part of this model'):
        feature_maps(model, x, layers=[stranger])
    with pytest.raises(ValueError, match=r"expected shape=.*found shape=.*10, 9, 3"):
        feature_maps(model, np.zeros((1, 10, 9, 3)))
    with pytest.raises(TypeError, match="must be a cnnkit Sequential model"):
        feature_maps(object(), x)
    dense_only = Sequential([layers.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="no convolution or pooling layer; pass `layers`"):
        feature_maps(dense_only, np.zeros((1, 4)))
