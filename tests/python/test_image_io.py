"""cnnkit.image.load / save: round trips through real PNG and JPEG files written by Pillow."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnkit import image


def _opened(path) -> tuple[str, str, np.ndarray]:
    """(mode, format, pixels) of the file, read by Pillow directly."""
    with Image.open(path) as file:
        return file.mode, file.format, np.asarray(file)


def _levels(shape: tuple[int, ...], high: int, dtype: type, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, high + 1, size=shape).astype(dtype)


@pytest.mark.parametrize(
    ("shape", "mode"), [((7, 9), "L"), ((7, 9, 3), "RGB"), ((7, 9, 4), "RGBA"), ((7, 9, 2), "LA")]
)
def test_load_8_bit_png(tmp_path, shape, mode: str) -> None:
    pixels = _levels(shape, 255, np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(pixels).save(path)
    assert _opened(path)[0] == mode
    loaded = image.load(path)
    assert loaded.dtype == np.float32
    assert loaded.shape == shape
    np.testing.assert_array_equal(loaded, pixels.astype(np.float32) / np.float32(255))


def test_load_16_bit_grayscale_png(tmp_path) -> None:
    pixels = _levels((5, 6), 65535, np.uint16)
    pixels[0, 0], pixels[0, 1] = 0, 65535
    path = tmp_path / "deep.png"
    Image.fromarray(pixels).save(path)
    loaded = image.load(path)
    assert loaded.dtype == np.float32
    assert loaded.min() == 0.0
    assert loaded.max() == 1.0
    np.testing.assert_allclose(loaded, pixels / 65535.0, rtol=0, atol=1e-7)


def test_load_palette_and_bilevel_images(tmp_path) -> None:
    rgb = _levels((4, 5, 3), 255, np.uint8)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(
        tmp_path / "p.png"
    )
    palette = image.load(tmp_path / "p.png")
    assert palette.shape == (4, 5, 3)
    bits = _levels((4, 5), 1, np.uint8) * 255
    Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    np.testing.assert_array_equal(image.load(tmp_path / "b.png"), bits / 255)


@pytest.mark.parametrize("shape", [(6, 8), (6, 8, 3), (6, 8, 4), (6, 8, 2)])
def test_save_then_load_is_exact_on_8_bit_levels(tmp_path, shape) -> None:
    values = _levels(shape, 255, np.uint8, seed=1) / 255.0
    image.save(tmp_path / "x.png", values)
    np.testing.assert_allclose(image.load(tmp_path / "x.png"), values, rtol=0, atol=1e-7)


def test_save_single_channel_as_grayscale(tmp_path) -> None:
    values = _levels((3, 4, 1), 255, np.uint8) / 255.0
    image.save(tmp_path / "g.png", values)
    assert _opened(tmp_path / "g.png")[0] == "L"
    np.testing.assert_allclose(image.load(tmp_path / "g.png"), values[..., 0], atol=1e-7)


def test_save_clips_by_default(tmp_path) -> None:
    image.save(tmp_path / "c.png", np.array([[-0.5, 0.0, 0.5, 1.0, 3.0]]))
    np.testing.assert_array_equal(_opened(tmp_path / "c.png")[2], [[0, 0, 128, 255, 255]])


def test_save_minmax_and_abs(tmp_path) -> None:
    signed = np.array([[-2.0, -1.0, 0.0, 2.0]])
    image.save(tmp_path / "m.png", signed, normalize="minmax")
    np.testing.assert_array_equal(_opened(tmp_path / "m.png")[2], [[0, 64, 128, 255]])
    image.save(tmp_path / "a.png", signed, normalize="abs")
    np.testing.assert_array_equal(_opened(tmp_path / "a.png")[2], [[255, 128, 0, 255]])
    image.save(tmp_path / "z.png", np.full((2, 2), 7.0), normalize="minmax")
    np.testing.assert_array_equal(_opened(tmp_path / "z.png")[2], np.zeros((2, 2)))


def test_save_integer_images_as_levels(tmp_path) -> None:
    levels = _levels((4, 4), 255, np.uint8)
    image.save(tmp_path / "u8.png", levels)
    np.testing.assert_array_equal(_opened(tmp_path / "u8.png")[2], levels)
    deep = levels.astype(np.uint16) * 257
    image.save(tmp_path / "u16.png", deep)
    np.testing.assert_array_equal(_opened(tmp_path / "u16.png")[2], levels)


@pytest.mark.parametrize("extension", [".jpg", ".jpeg", ".JPG"])
def test_jpeg_round_trip_is_close(tmp_path, extension: str) -> None:
    y, x = np.mgrid[0:32, 0:40]
    smooth = np.stack([x / 39, y / 31, (x + y) / 69], axis=-1)
    path = tmp_path / f"photo{extension}"
    image.save(path, smooth)
    assert _opened(path)[1] == "JPEG"
    loaded = image.load(path)
    assert loaded.shape == (32, 40, 3)
    assert np.abs(loaded - smooth).mean() < 0.02


def test_load_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"image file not found: '.*missing.png'"):
        image.load(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"cannot read image '.*notes.png'"):
        image.load(tmp_path / "notes.png")
    Image.fromarray(np.ones((2, 2), np.float32)).save(tmp_path / "float.tiff")
    with pytest.raises(ValueError, match=r"floating-point images \(mode 'F'\) are not supported"):
        image.load(tmp_path / "float.tiff")


@pytest.mark.parametrize(
    ("name", "array", "options", "message"),
    [
        ("x.bmp", np.zeros((2, 2)), {}, r"path must end in .png, .jpg or .jpeg, got '.*x.bmp'"),
        ("x.png", np.zeros((2, 2, 5)), {}, r"got shape \(2, 2, 5\)"),
        ("x.png", np.zeros(4), {}, r"array must have shape \(H, W\) or \(H, W, C\)"),
        ("x.png", np.zeros((0, 3)), {}, r"array must not be empty"),
        ("x.png", np.array([[0.0, np.nan]]), {}, r"array must not contain NaN or infinity"),
        ("x.jpg", np.zeros((2, 2, 4)), {}, r"JPEG cannot store an alpha channel"),
        ("x.png", np.zeros((2, 2)), {"normalize": "scale"}, r"normalize must be one of"),
    ],
)
def test_save_errors(tmp_path, name: str, array: np.ndarray, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        image.save(tmp_path / name, array, **options)
    assert not (tmp_path / name).exists()
