"""The cnnkit command line, run end to end in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cnnkit.models import load_model


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "COLUMNS": "80"},
    )


def test_summary_default_is_seed_a():
    result = _run("summary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Model: "sequential"\n')
    assert (
        "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │"
        in result.stdout
    )
    assert " Total params: 1,199,882 (4.58 MB)" in result.stdout


def test_summary_seed_b():
    result = _run("summary", "seed-b")
    assert result.returncode == 0, result.stderr
    assert " Total params: 7,998,250 (30.51 MB)" in result.stdout
    assert "(None, 98, 98, 32)" in result.stdout


def test_summary_of_a_missing_file_fails_clearly():
    result = _run("summary", "no/such/model.cnnkit")
    assert result.returncode == 2
    assert (
        "'no/such/model.cnnkit' is neither seed-a, seed-b nor an existing model file"
        in result.stderr
    )


@pytest.mark.parametrize("command", [[], ["train"], ["summary"]])
def test_help(command):
    result = _run(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: cnnkit")
    if command == ["train"]:
        for option in (
            "--epochs",
            "--batch-size",
            "--optimizer",
            "--model",
            "--output",
            "--seed",
            "--threads",
            "--limit",
        ):
            assert option in result.stdout


def test_no_subcommand_is_a_usage_error():
    result = _run()
    assert result.returncode == 2
    assert "usage: cnnkit" in result.stderr


def test_train_on_a_subset_writes_model_and_curve(tmp_path):
    out = tmp_path / "runs"
    result = _run(
        "train",
        "--limit",
        "256",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--output",
        str(out),
        "--seed",
        "3",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "Epoch 1/2" in result.stdout
    assert "Epoch 2/2" in result.stdout
    assert " Total params: 1,199,882" in result.stdout
    assert "Test loss: " in result.stdout
    assert "Test accuracy: " in result.stdout
    model_file = out / "seed-a-fashion-mnist.cnnkit"
    png = out / "seed-a-fashion-mnist.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = load_model(model_file)
    assert model.count_params() == 1_199_882
    assert model.optimizer.iterations == 2 * 4

    summary = _run("summary", str(model_file))
    assert summary.returncode == 0, summary.stderr
    assert " Total params: 1,199,882" in summary.stdout


def test_summary_of_a_corrupt_file(tmp_path):
    path = tmp_path / "bad.cnnkit"
    path.write_bytes(b"garbage")
    result = _run("summary", str(path))
    assert result.returncode == 1
    assert "bad.cnnkit" in result.stderr
    assert "not a valid cnnkit model file" in result.stderr
