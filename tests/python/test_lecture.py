"""The lecture's Keras examples, with `keras` replaced by `cnnkit`, run unchanged."""

from __future__ import annotations

import numpy as np
from cnnkit import layers as layer_names
from cnnkit.utils import set_random_seed


def test_first_example_trains():
    from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from cnnkit.models import Sequential
    from cnnkit.optimizers import SGD
    from cnnkit.utils import to_categorical

    layer_names.reset_names()
    set_random_seed(0)
    num_classes = 10
    input_shape = (28, 28, 1)
    x_train = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    y_train = to_categorical(np.arange(64) % num_classes, num_classes)

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))

    sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    history = model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=2,
        verbose=0,
        validation_data=(x_train[:16], y_train[:16]),
    )
    score = model.evaluate(x_train, y_train, verbose=0)
    assert len(score) == 2
    assert np.isfinite(score[0])
    assert len(history.history["val_loss"]) == 2
    assert [layer.name for layer in model.layers][:2] == ["conv2d", "conv2d_1"]


def test_second_example_compiles_and_steps():
    from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from cnnkit.models import Sequential
    from cnnkit.optimizers import SGD

    model = Sequential()
    # input: 100x100 images with 3 channels -> (100, 100, 3) tensors.
    # this applies 32 convolution filters of size 3x3 each.
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(100, 100, 3)))
    model.add(Conv2D(32, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Flatten())
    model.add(Dense(256, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))

    sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd)

    rng = np.random.default_rng(0)
    x = rng.random((4, 100, 100, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[[0, 1, 2, 3]]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert model.count_params() == 7_998_250
