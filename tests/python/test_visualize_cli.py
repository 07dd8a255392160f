"""`cnnkit visualize` in a real subprocess, on a saved model and a small IDX dataset."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from cnnkit import image, layers
from cnnkit.models import Sequential

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _write_idx(path: Path, array: np.ndarray) -> None:
    """The IDX format of (Fashion-)MNIST: magic (0, 0, uint8 type, rank), sizes, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved model on 28x28x1 and a Fashion-MNIST-shaped folder of 30 test images."""
    root = tmp_path_factory.mktemp("visualize")
    rng = np.random.default_rng(0)
    data = root / "data"
    data.mkdir()
    for prefix, count in (("train", 8), ("t10k", 30)):
        _write_idx(data / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)))
        _write_idx(data / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, count))
    model = Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(4, 3, activation="relu", name="conv_a"),
            layers.MaxPooling2D(name="pool"),
            layers.Conv2D(6, 3, activation="relu", name="conv_b"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.save(str(root / "model.cnnkit"))
    return root


def _run(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnkit", "visualize", str(workspace / "model.cnnkit"), *args],
        capture_output=True,
        text=True,
        cwd=workspace,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def test_index_writes_every_figure(workspace: Path) -> None:
    out = workspace / "by_index"
    result = _run(
        workspace,
        "--index",
        "3",
        "--data",
        str(workspace / "data"),
        "-o",
        str(out),
        "--samples",
        "20",
        "--top-k",
        "4",
    )
    assert result.returncode == 0, result.stderr
    expected = [
        "feature_maps.png",
        "filters_conv_a.png",
        "filters_conv_b.png",
        "top_activations_conv_a.png",
        "top_activations_conv_b.png",
    ]
    assert sorted(p.name for p in out.iterdir()) == expected
    for name in expected:
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE)
        assert f"Wrote {out / name}" in result.stdout


def test_image_with_chosen_layers_and_no_search(workspace: Path) -> None:
    picture = np.random.default_rng(1).uniform(0, 1, (28, 28)).astype(np.float32)
    image.save(str(workspace / "item.png"), picture)
    out = workspace / "by_image"
    result = _run(
        workspace,
        "--image",
        str(workspace / "item.png"),
        "-o",
        str(out),
        "--layers",
        "conv_b",
        "1",
        "--samples",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["feature_maps.png", "filters_conv_b.png"]


def test_errors_are_reported_without_a_traceback(workspace: Path) -> None:
    image.save(str(workspace / "small.png"), np.zeros((10, 12), dtype=np.float32))
    result = _run(workspace, "--image", str(workspace / "small.png"), "--samples", "0")
    assert result.returncode == 1
    assert "takes inputs of shape (28, 28, 1), the image has shape (10, 12)" in result.stderr
    assert "Traceback" not in result.stderr

    result = _run(workspace, "--index", "30", "--data", str(workspace / "data"))
    assert result.returncode == 1
    assert "--index 30 is outside the 30 test images" in result.stderr

    result = _run(
        workspace,
        "--index",
        "0",
        "--layers",
        "nope",
        "--samples",
        "0",
        "--data",
        str(workspace / "data"),
    )
    assert result.returncode == 1
    assert 'No layer named "nope"' in result.stderr

    result = _run(workspace)  # neither --image nor --index
    assert result.returncode == 2
    assert "one of the arguments --image --index is required" in result.stderr


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cnnkit", "visualize", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--image", "--index", "--dataset", "--output", "--layers", "--top-k"):
        assert option in result.stdout
