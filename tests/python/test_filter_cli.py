"""`cnnkit filter` end to end: a real `python -m cnnkit` process on PNG files the test writes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnnkit import image
from cnnkit.image import kernels


def _run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnkit", "filter", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _pixels(path) -> np.ndarray:
    with Image.open(path) as file:
        return np.asarray(file)


@pytest.fixture
def photo(tmp_path):
    """A 24x31 RGB PNG with smooth gradients and a bright square, so filters have work to do."""
    y, x = np.mgrid[0:24, 0:31]
    rgb = np.stack([x * 8, y * 10, 255 - x * 4], axis=-1)
    rgb[8:16, 10:20] = 250
    path = tmp_path / "photo.png"
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def _expected(path, kernel, normalize="clip", **options) -> np.ndarray:
    """What the command should write: convolve2d, then save()'s 8-bit quantisation."""
    options = {"mode": "same", "boundary": "symm", **options}
    result = image.convolve2d(image.load(path), kernel, **options).astype(np.float64)
    if normalize == "abs":
        result = np.abs(result) / np.abs(result).max()
    return np.rint(np.clip(result, 0, 1) * 255)


@pytest.mark.parametrize("name", ["blur", "edge", "sharpen"])
def test_named_kernel(photo, tmp_path, name: str) -> None:
    out = tmp_path / f"{name}.png"
    done = _run(photo, "--kernel", name, "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    written = _pixels(out)
    assert written.shape == (24, 31, 3)
    np.testing.assert_allclose(written, _expected(photo, kernels.get(name)), rtol=0, atol=1)


def test_edge_with_abs_normalisation_and_fill_boundary(photo, tmp_path) -> None:
    out = tmp_path / "edges.png"
    done = _run(photo, "--kernel", "edge", "--boundary", "fill", "--normalize", "abs", "-o", out)
    assert done.returncode == 0, done.stderr
    expected = _expected(photo, kernels.EDGE, normalize="abs", boundary="fill")
    np.testing.assert_allclose(_pixels(out), expected, rtol=0, atol=1)


def test_text_kernel_file_and_full_mode(photo, tmp_path) -> None:
    kernel_file = tmp_path / "kernel.txt"
    kernel_file.write_text("# a 2x3 smoothing kernel\n0.1 0.2 0.1\n\n  0.2 0.2   0.2\n")
    out = tmp_path / "full.png"
    done = _run(photo, "--kernel-file", kernel_file, "--mode", "full", "-o", out)
    assert done.returncode == 0, done.stderr
    kernel = np.array([[0.1, 0.2, 0.1], [0.2, 0.2, 0.2]])
    written = _pixels(out)
    assert written.shape == (25, 33, 3)
    np.testing.assert_allclose(written, _expected(photo, kernel, mode="full"), rtol=0, atol=1)


def test_npy_kernel_file_on_grayscale_with_alpha(tmp_path) -> None:
    grey = np.random.default_rng(0).integers(0, 256, size=(10, 12, 2)).astype(np.uint8)
    source = tmp_path / "grey.png"
    Image.fromarray(grey).save(source)
    kernel_file = tmp_path / "k.npy"
    np.save(kernel_file, kernels.gaussian(5, 1.0))
    out = tmp_path / "out.png"
    done = _run(source, "--kernel-file", kernel_file, "--boundary", "wrap", "-o", out)
    assert done.returncode == 0, done.stderr
    written = _pixels(out)
    np.testing.assert_array_equal(written[..., 1], grey[..., 1])  # alpha kept as it is
    expected = _expected(source, kernels.gaussian(5, 1.0), boundary="wrap")[..., 0]
    np.testing.assert_allclose(written[..., 0], expected, rtol=0, atol=1)


def _assert_clean_error(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_missing_image(tmp_path) -> None:
    done = _run(tmp_path / "nope.png", "--kernel", "blur", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "cnnkit filter: image file not found:")


def test_unreadable_image(tmp_path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG but not really")
    done = _run(bad, "--kernel", "blur", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "cnnkit filter: cannot read image")


def test_unknown_kernel_lists_the_names(photo, tmp_path) -> None:
    done = _run(photo, "--kernel", "gauss", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "unknown kernel 'gauss'; known kernels: blur, edge, emboss, sharpen")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1 2 3\n4 five 6\n", "line 2: expected numbers separated by spaces, got '4 five 6'"),
        ("1 2 3\n4 5\n", "line 2: 2 numbers, but the first row has 3"),
        ("# only a comment\n\n", "holds no numbers"),
    ],
)
def test_malformed_kernel_file(photo, tmp_path, content: str, message: str) -> None:
    kernel_file = tmp_path / "kernel.txt"
    kernel_file.write_text(content)
    done = _run(photo, "--kernel-file", kernel_file, "-o", tmp_path / "out.png")
    _assert_clean_error(done, message)


def test_malformed_npy_and_missing_kernel_file(photo, tmp_path) -> None:
    np.save(tmp_path / "flat.npy", np.ones(3))
    done = _run(photo, "--kernel-file", tmp_path / "flat.npy", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "must hold a non-empty 2-D numeric array, got shape (3,)")
    done = _run(photo, "--kernel-file", tmp_path / "absent.txt", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "kernel file not found")


def test_bad_output_and_valid_mode_errors(photo, tmp_path) -> None:
    done = _run(photo, "--kernel", "blur", "-o", tmp_path / "out.gif")
    _assert_clean_error(done, "path must end in .png, .jpg or .jpeg")
    big = tmp_path / "big.txt"
    big.write_text("\n".join(["1 " * 40] * 3))
    done = _run(photo, "--kernel-file", big, "--mode", "valid", "-o", tmp_path / "out.png")
    _assert_clean_error(done, "mode 'valid' needs the image or the kernel")


def test_usage_errors_and_help(photo, tmp_path) -> None:
    done = _run(photo, "-o", tmp_path / "out.png")
    assert done.returncode == 2
    assert "one of the arguments --kernel --kernel-file is required" in done.stderr
    done = _run(photo, "--kernel", "edge", "--kernel-file", "k.txt", "-o", tmp_path / "o.png")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
    done = _run("--help")
    assert done.returncode == 0
    assert "whitespace-separated numbers" in done.stdout
