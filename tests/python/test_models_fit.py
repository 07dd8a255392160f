"""Sequential training semantics: fit/evaluate/predict/train_on_batch, as Keras does them."""

from __future__ import annotations

import numpy as np
import pytest
from cnnkit import layers, regularizers
from cnnkit.callbacks import Callback, EarlyStopping
from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6, 6, 1)).astype(np.float32)
    labels = (x[:, :3].sum(axis=(1, 2, 3)) > x[:, 3:].sum(axis=(1, 2, 3))).astype(int)
    return x, to_categorical(labels, 2)


def _model(dtype="float32"):
    model = Sequential(
        [
            Input((6, 6, 1)),
            Conv2D(3, 3, activation="relu", dtype=dtype),
            MaxPooling2D(dtype=dtype),
            Flatten(dtype=dtype),
            Dropout(0.2),
            Dense(2, activation="softmax", dtype=dtype),
        ]
    )
    model.compile(
        optimizer=SGD(learning_rate=0.1, momentum=0.9),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(autouse=True)
def _seeded():
    layers.reset_names()
    set_random_seed(0)


def test_history_keys_and_values_in_keras_order():
    x, y = _data()
    history = _model().fit(x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2]
    assert all(len(values) == 3 for values in history.history.values())


def test_validation_split_takes_the_tail_before_shuffling():
    x, y = _data(40)
    model = _model()
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.25)
    loss, accuracy = model.evaluate(x[30:], y[30:], verbose=0)
    assert history.history["val_loss"] == [pytest.approx(loss, rel=1e-6)]
    assert history.history["val_accuracy"] == [pytest.approx(accuracy)]
    head_loss, _ = model.evaluate(x[:30], y[:30], verbose=0)
    assert head_loss != pytest.approx(loss, rel=1e-6)


def test_validation_split_that_leaves_nothing_is_an_error():
    x, y = _data(1)
    with pytest.raises(ValueError, match=r"validation_split=0\.5 leaves an empty"):
        _model().fit(x, y, validation_split=0.5, verbose=0)


def test_callbacks_fire_in_keras_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_begin(self, batch, logs=None):
            events.append(f"batch_begin {batch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = _data(16)
    recorder = Recorder()
    _model().fit(
        x[:12],
        y[:12],
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[recorder],
        validation_data=(x[12:], y[12:]),
    )
    batch_keys = "['accuracy', 'loss']"
    epoch_keys = "['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        f"batch_end 0 {batch_keys}",
        "batch_begin 1",
        f"batch_end 1 {batch_keys}",
        f"epoch_end 0 {epoch_keys}",
        "epoch_begin 1",
        "batch_begin 0",
        f"batch_end 0 {batch_keys}",
        "batch_begin 1",
        f"batch_end 1 {batch_keys}",
        f"epoch_end 1 {epoch_keys}",
        "train_end",
    ]
    assert recorder.params == {"epochs": 2, "steps": 2, "verbose": 0}


def test_stop_training_and_early_stopping():
    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = _data()
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterFirstEpoch()])
    assert history.epoch == [0]
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=[stopper])
    assert history.epoch == [0, 1]


def test_initial_epoch():
    x, y = _data()
    history = _model().fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]


def test_shuffle_is_deterministic_under_set_random_seed():
    x, y = _data()
    runs = []
    for shuffle in (True, True, False):
        layers.reset_names()
        set_random_seed(5)
        model = _model()
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=shuffle)
        runs.append(model.get_weights())
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(runs[0], runs[2]))


def test_verbose_modes(capsys):
    x, y = _data(20)
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""

    _model().fit(x, y, batch_size=8, epochs=2, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[2] == "Epoch 2/2"
    assert len(lines) == 4
    assert lines[1].startswith("2/2 - ")
    assert "ms/step - accuracy: " in lines[1] or "us/step - accuracy: " in lines[1]
    assert lines[1].endswith(lines[1][lines[1].index(" - accuracy") :])
    assert " - loss: " in lines[1]
    assert " - val_accuracy: " in lines[1]
    assert " - val_loss: " in lines[1]

    _model().fit(x, y, batch_size=8, epochs=1)  # verbose="auto" is 1: a live bar
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/1\n")
    final = out.replace("\r", "\n").splitlines()[-1]
    assert final.startswith("3/3 ━━━━━━━━━━━━━━━━━━━━ ")
    assert " - accuracy: " in final
    assert " - loss: " in final


def test_train_on_batch_single_step_gradient_matches_finite_differences():
    """With SGD(lr=1), old - new weights is the gradient; check it through the fused softmax."""
    x, y = _data(5)
    model = Sequential(
        [
            Input((6, 6, 1)),
            Conv2D(2, 3, activation="tanh", dtype="float64"),
            Flatten(dtype="float64"),
            Dense(2, activation="softmax", dtype="float64"),
        ]
    )
    model.compile(optimizer=SGD(learning_rate=1.0), loss="categorical_crossentropy")
    x = x.astype(np.float64)
    before = model.get_weights()
    loss = model.train_on_batch(x, y)
    gradients = [b - a for b, a in zip(before, model.get_weights())]

    model.set_weights(before)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-12)
    eps = 1e-6
    for weight, gradient in zip(model.trainable_weights, gradients):
        flat = weight.reshape(-1)
        for i in range(0, flat.size, 3):
            saved = flat[i]
            flat[i] = saved + eps
            plus = model.evaluate(x, y, verbose=0)
            flat[i] = saved - eps
            minus = model.evaluate(x, y, verbose=0)
            flat[i] = saved
            assert gradient.reshape(-1)[i] == pytest.approx(
                (plus - minus) / (2 * eps), rel=1e-5, abs=1e-8
            )


def test_loss_weights_and_regularizer_enter_the_loss():
    x, y = _data(8)
    model = Sequential(
        [
            Input((6, 6, 1)),
            Flatten(),
            Dense(2, activation="softmax", kernel_regularizer=regularizers.l2(0.01)),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", loss_weights=[2.0])
    penalty = 0.01 * float(np.sum(model.layers[-1].kernel.astype(np.float64) ** 2))
    from cnnkit.losses import CategoricalCrossentropy

    plain = CategoricalCrossentropy()(y, model.predict(x, verbose=0))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(2 * plain + penalty, rel=1e-5)


def test_evaluate_predict_and_train_on_batch_return_keras_shapes():
    x, y = _data(10)
    model = _model()
    result = model.evaluate(x, y, batch_size=4, verbose=0)
    assert isinstance(result, list)
    assert len(result) == 2
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}
    prediction = model.predict(x, batch_size=3, verbose=0)
    assert prediction.shape == (10, 2)
    assert prediction.dtype == np.float32
    np.testing.assert_allclose(prediction, model(x), rtol=1e-6)
    np.testing.assert_allclose(prediction.sum(axis=1), 1, rtol=1e-5)
    before = model.get_weights()
    loss, accuracy = model.train_on_batch(x, y)
    assert 0 <= accuracy <= 1
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(np.zeros((0, 6, 6, 1), np.float32), verbose=0).shape == (0, 2)


def test_uint8_input_is_accepted():
    x = np.random.default_rng(0).integers(0, 255, (12, 6, 6, 1), dtype=np.uint8)
    y = to_categorical(np.arange(12) % 2, 2)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).dtype == np.float32


def test_input_errors():
    x, y = _data(10)
    model = _model()
    with pytest.raises(
        ValueError,
        match=r"same number of samples, got x with shape \(10, 6, 6, 1\) and y with shape \(9, 2\)",
    ):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(
        ValueError, match=r"expected shape=\(None, 6, 6, 1\), found shape=\(10, 6, 6, 3\)"
    ):
        model.predict(np.zeros((10, 6, 6, 3), np.float32), verbose=0)
    with pytest.raises(
        ValueError, match=r"expected shape=\(None, 6, 6, 1\), found shape=\(10, 36\)"
    ):
        model.evaluate(np.zeros((10, 36), np.float32), y, verbose=0)
    with pytest.raises(RuntimeError, match="must call compile"):
        Sequential([Input((2,)), Dense(1)]).fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    with pytest.raises(TypeError, match="expects a cnnkit layer"):
        Sequential().add("dense")
    with pytest.raises(ValueError, match="unique names"):
        Sequential([Dense(1, name="a"), Dense(1, name="a")])


def test_nan_loss_stops_training_with_a_clear_message(capsys):
    x, y = _data(32)
    x[5] = np.nan
    model = Sequential([Input((6, 6, 1)), Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    out = capsys.readouterr().out
    assert "Batch 0: invalid loss nan, terminating training" in out
    assert history.epoch == [0]


def test_model_without_input_shape_builds_on_first_fit():
    model = Sequential([Dense(4, activation="relu"), Dense(1)])
    assert model.layers[0].output_shape is None
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 1), np.float32), verbose=0)
    assert model.input_shape == (None, 3)
    assert model.output_shape == (None, 1)


def test_channels_first_model_matches_channels_last_with_the_same_weights():
    def build(data_format, shape):
        return Sequential(
            [
                Input(shape),
                Conv2D(3, 3, activation="relu", data_format=data_format),
                MaxPooling2D(data_format=data_format),
                Flatten(data_format=data_format),
                Dense(2, activation="softmax"),
            ]
        )

    last = build("channels_last", (6, 6, 1))
    first = build("channels_first", (1, 6, 6))
    first.set_weights(last.get_weights())
    x, _ = _data(4)
    np.testing.assert_allclose(
        first.predict(x.transpose(0, 3, 1, 2), verbose=0), last.predict(x, verbose=0), rtol=1e-6
    )


def test_model_computes_in_its_layers_dtype():
    x, y = _data(6)
    model = _model()
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32
    np.testing.assert_array_equal(
        model.predict(x.astype(np.float64), verbose=0), model.predict(x, verbose=0)
    )
    double = Sequential([Input((6, 6, 1)), Flatten(dtype="float64"), Dense(2, dtype="float64")])
    assert double.predict(x, verbose=0).dtype == np.float64
