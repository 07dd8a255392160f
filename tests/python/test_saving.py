"""model.save / load_model: exact round trip, atomic writes, clear errors, no pickle."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from cnnkit import layers, regularizers
from cnnkit.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential, load_model, saving
from cnnkit.optimizers import SGD, Adam
from cnnkit.utils import set_random_seed, to_categorical


def _data(n=48):
    rng = np.random.default_rng(1)
    x = rng.random((n, 8, 8, 1)).astype(np.float32)
    return x, to_categorical(rng.integers(0, 3, n), 3)


def _model(optimizer=None):
    model = Sequential(
        [
            Input((8, 8, 1)),
            Conv2D(4, 3, activation="relu", kernel_regularizer=regularizers.l2(1e-3)),
            MaxPooling2D(),
            BatchNormalization(),
            Dropout(0.25, seed=3),
            Flatten(),
            Dropout(0.1),
            Dense(3, activation="softmax"),
        ],
        name="small",
    )
    model.compile(
        optimizer=optimizer or SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(autouse=True)
def _seeded():
    layers.reset_names()
    set_random_seed(0)


@pytest.mark.parametrize(
    "optimizer", [lambda: SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True), lambda: Adam()]
)
def test_round_trip_is_exact_and_training_continues_identically(tmp_path, optimizer):
    x, y = _data()
    model = _model(optimizer())
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "model.cnnkit"
    model.save(path)
    loaded = load_model(path)

    assert loaded.name == "small"
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert [la.get_config() for la in loaded.layers] == [la.get_config() for la in model.layers]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    state, loaded_state = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert state.keys() == loaded_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], loaded_state[key])
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss.get_config() == model.loss.get_config()
    assert [m.name for m in loaded.metrics] == ["accuracy"]

    set_random_seed(9)
    continued = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    set_random_seed(9)
    resumed = loaded.fit(x, y, batch_size=16, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert continued.history == resumed.history


def test_uncompiled_model_round_trip(tmp_path):
    model = Sequential([Input((5,)), Dense(3, activation="tanh", dtype="float64")])
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    assert loaded.get_weights()[0].dtype == np.float64
    x = np.random.default_rng(0).standard_normal((2, 5))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.cnnkit"
    model = _model()
    model.save(path)
    good = path.read_bytes()
    saved_kernel = model.layers[-1].kernel.copy()
    calls = []

    def failing_write(archive, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(archive, name, array)

    original = saving._write_array
    monkeypatch.setattr(saving, "_write_array", failing_write)
    model.layers[-1].kernel[...] += 1
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.cnnkit"]  # no temporary file left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(load_model(path).layers[-1].kernel, saved_kernel)


_SAVE_FOREVER = """
import sys
import numpy as np
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential
model = Sequential([Input((2000,)), Dense(1000)])
print("ready", flush=True)
i = 0
while True:
    i += 1
    model.layers[0].bias[:] = i
    model.save(sys.argv[1])
"""


def test_killed_save_never_corrupts_the_file(tmp_path):
    path = tmp_path / "model.cnnkit"
    Sequential([Input((2000,)), Dense(1000)]).save(path)
    for delay in (0.3, 0.55, 0.8):
        process = subprocess.Popen(
            [sys.executable, "-c", _SAVE_FOREVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        bias = load_model(path).layers[0].bias  # loads: the last complete save, never a torn one
        assert np.all(bias == bias[0])


def test_corrupt_and_truncated_files_give_a_clear_error(tmp_path):
    path = tmp_path / "model.cnnkit"
    _model().save(path)
    data = path.read_bytes()

    truncated = tmp_path / "truncated.cnnkit"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"Cannot load '.*truncated\.cnnkit': not a valid cnnkit model file"
    ):
        load_model(truncated)

    garbage = tmp_path / "garbage.cnnkit"
    garbage.write_bytes(b"\x00not a zip at all" * 10)
    with pytest.raises(ValueError, match=r"garbage\.cnnkit"):
        load_model(garbage)

    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("model.json", '{"format": "something else"}')
    with pytest.raises(ValueError, match=r"other\.zip.*not a cnnkit model description"):
        load_model(other_zip)

    with pytest.raises(FileNotFoundError, match="No model file"):
        load_model(tmp_path / "missing.cnnkit")


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "model.cnnkit"
    Sequential([Input((2,)), Dense(1)]).save(path)
    tampered = tmp_path / "tampered.cnnkit"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            if name == "weights/0.npy":
                buffer = io.BytesIO()
                np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
                target.writestr(name, buffer.getvalue())
            else:
                target.writestr(name, source.read(name))
    with pytest.raises(ValueError, match=r"tampered\.cnnkit.*allow_pickle"):
        load_model(tampered)


def test_unknown_layer_class_in_file_is_rejected(tmp_path):
    path = tmp_path / "model.cnnkit"
    Sequential([Input((2,)), Dense(1)]).save(path)
    with zipfile.ZipFile(path) as archive:
        document = archive.read("model.json").decode().replace('"Dense"', '"os.system"')
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["model.json"] = document.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    with pytest.raises(ValueError, match=r"Unknown layer class 'os\.system'"):
        load_model(path)
