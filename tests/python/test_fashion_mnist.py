"""Real data: the lecture's first network learns Fashion-MNIST in one epoch."""

from __future__ import annotations

import pytest
from cnnkit import layers
from cnnkit.datasets import fashion_mnist
from cnnkit.models.seeds import seed_a
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical


@pytest.mark.slow
def test_seed_model_a_reaches_78_percent_after_one_epoch():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = (x_train[..., None] / 255.0).astype("float32")
    x_test = (x_test[..., None] / 255.0).astype("float32")
    layers.reset_names()
    set_random_seed(0)
    model = seed_a()
    model.compile(
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        optimizer=SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
    )
    history = model.fit(x_train, to_categorical(y_train, 10), batch_size=32, epochs=1, verbose=0)
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), batch_size=500, verbose=0)
    assert history.history["loss"][0] < 1.0
    assert accuracy >= 0.78, f"test accuracy {accuracy:.4f} after one epoch (loss {loss:.4f})"
