"""save_model / load_model: one zip file, JSON plus .npy arrays, no pickle, written atomically.

Layout of the file (any name; ``.cnnkit`` by convention):
    model.json              format tag, architecture (get_config), compile settings,
                            optimizer config, and the state of seeded Dropout generators
    weights/<i>.npy         every weight in model.get_weights() order
    optimizer/<key>.npy     optimizer.get_state() (iterations and slot arrays)

Saving writes to a temporary file in the target folder, fsyncs it and renames it over the
target with os.replace, so a crash mid-save leaves the previous file untouched. Loading
reads arrays with allow_pickle=False and builds only cnnkit's own classes: nothing in the
file is executed.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import numpy as np

from cnnkit import losses, metrics, optimizers
from cnnkit.layers.core import Dropout

__all__ = ["load_model", "save_model"]

_FORMAT = "cnnkit.model"
_VERSION = 1


def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    archive.writestr(name, buffer.getvalue())


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name) as handle:
        return np.lib.format.read_array(io.BytesIO(handle.read()), allow_pickle=False)


def _document(model) -> dict:
    dropout_states = {
        layer.name: layer.get_generator_state()
        for layer in model.layers
        if isinstance(layer, Dropout) and layer.get_generator_state() is not None
    }
    compile_config = None
    if model.compiled:
        compile_config = {
            "loss": None if model.loss is None else losses.serialize(model.loss),
            "optimizer": optimizers.serialize(model.optimizer),
            **model._compile_config,
        }
    return {
        "format": _FORMAT,
        "version": _VERSION,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile": compile_config,
        "dropout_generators": dropout_states,
    }


def save_model(model, filepath: str | os.PathLike) -> None:
    """Writes `model` to `filepath` atomically (see the module docstring)."""
    filepath = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    document = _document(model)
    fd, temporary = tempfile.mkstemp(prefix=".cnnkit-save-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr("model.json", json.dumps(document, indent=1))
                for index, weight in enumerate(model.get_weights()):
                    _write_array(archive, f"weights/{index}.npy", weight)
                if model.compiled:
                    for key, value in model.optimizer.get_state().items():
                        _write_array(archive, f"optimizer/{key}.npy", np.asarray(value))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_model(filepath: str | os.PathLike):
    """The model saved at `filepath`: architecture, weights, compile settings, optimizer state.

    A missing file raises FileNotFoundError; anything else wrong with the file (not a zip,
    truncated, missing entries, wrong shapes) raises ValueError naming the file.
    """
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath!r}")
    try:
        return _load(filepath)
    except (
        zipfile.BadZipFile,
        KeyError,
        json.JSONDecodeError,
        EOFError,
        OSError,
        UnicodeDecodeError,
        TypeError,
        ValueError,
    ) as error:
        if isinstance(error, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(
            f"Cannot load {filepath!r}: not a valid cnnkit model file ({type(error).__name__}: "
            f"{error})"
        ) from error


def _load(filepath: str):
    from cnnkit.models.sequential import Sequential

    with zipfile.ZipFile(filepath, "r") as archive:
        document = json.loads(archive.read("model.json").decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise ValueError("model.json is not a cnnkit model description")
        if document.get("version") != _VERSION or document.get("class_name") != "Sequential":
            raise ValueError(
                f"unsupported model version {document.get('version')!r} "
                f"or class {document.get('class_name')!r}"
            )
        names = set(archive.namelist())
        model = Sequential.from_config(document["config"])
        count = sum(1 for n in names if n.startswith("weights/"))
        model.set_weights([_read_array(archive, f"weights/{i}.npy") for i in range(count)])
        for layer in model.layers:
            state = document.get("dropout_generators", {}).get(layer.name)
            if state is not None:
                layer.set_generator_state(state)
        compile_config = document.get("compile")
        if compile_config is not None:
            model.compile(
                optimizer=optimizers.deserialize(compile_config["optimizer"]),
                loss=None
                if compile_config["loss"] is None
                else losses.deserialize(compile_config["loss"]),
                loss_weights=compile_config.get("loss_weights"),
                metrics=[_metric(m, model.loss) for m in compile_config.get("metrics", [])],
            )
            state = {
                n[len("optimizer/") : -len(".npy")]: _read_array(archive, n)
                for n in names
                if n.startswith("optimizer/")
            }
            if state:
                model.optimizer.set_state(state)
    return model


def _metric(identifier: str, loss):
    metrics.get(identifier, loss)  # validates the name before compile sees it
    return identifier
