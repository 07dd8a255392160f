"""cnnkit.image filtering against scipy.signal, the named kernels, and a Conv2D seeded by one."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import scipy.signal

from cnnkit import image
from cnnkit.image import kernels

MODES = ("full", "same", "valid")
BOUNDARIES = ("fill", "wrap", "symm")
FUNCTIONS = [
    (image.convolve2d, scipy.signal.convolve2d),
    (image.correlate2d, scipy.signal.correlate2d),
]
# (H, W), (KH, KW): one pixel, odd and even kernels, non-square, the unrolled 3/5/7 sizes on
# widths around the vector blocks, and kernels larger than the image on one or both axes.
CASES = [
    ((1, 1), (1, 1)), ((1, 1), (3, 3)), ((1, 7), (3, 3)), ((6, 1), (2, 2)), ((5, 5), (3, 3)),
    ((7, 16), (3, 3)), ((9, 17), (5, 5)), ((11, 33), (7, 7)), ((8, 65), (3, 3)),
    ((10, 12), (2, 4)), ((13, 9), (4, 1)), ((12, 20), (6, 6)), ((3, 4), (1, 6)),
    ((4, 3), (5, 7)), ((3, 3), (8, 9)), ((2, 5), (9, 5)), ((20, 30), (9, 10)),
    ((1, 40), (1, 5)), ((40, 1), (5, 1)), ((64, 100), (7, 7)),
]


def _tolerance(dtype: np.dtype, x: np.ndarray, kernel: np.ndarray, fill: float) -> float:
    eps = 1e-6 if dtype == np.float32 else 1e-13
    return eps * np.abs(kernel).sum() * max(np.abs(x).max(), abs(fill)) + eps


def _scipy(function, x: np.ndarray, kernel: np.ndarray, **options) -> np.ndarray:
    """scipy on float64, channel by channel for (H, W, C)."""
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    if x.ndim == 2:
        return function(x, kernel, **options)
    return np.stack([function(x[..., c], kernel, **options) for c in range(x.shape[2])], axis=-1)


def _scipy_raises(function, x, kernel, mode) -> bool:
    try:
        _scipy(function, x, kernel, mode=mode)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize(("image_hw", "kernel_hw"), CASES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_scipy(image_hw, kernel_hw, mode: str, dtype: type) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((image_hw, kernel_hw, mode)).encode()))
    x = rng.standard_normal(image_hw).astype(dtype)
    kernel = rng.standard_normal(kernel_hw).astype(dtype)
    for ours, theirs in FUNCTIONS:
        if mode == "valid" and _scipy_raises(theirs, x, kernel, mode):
            with pytest.raises(ValueError, match="mode 'valid' needs the image or the kernel"):
                ours(x, kernel, mode)
            continue
        for boundary in BOUNDARIES:
            expected = _scipy(theirs, x, kernel, mode=mode, boundary=boundary, fillvalue=0.5)
            result = ours(x, kernel, mode=mode, boundary=boundary, fillvalue=0.5)
            assert result.dtype == dtype
            assert result.shape == expected.shape, (ours.__name__, boundary)
            np.testing.assert_allclose(
                result, expected, rtol=0, atol=_tolerance(dtype, x, kernel, 0.5),
                err_msg=f"{ours.__name__} boundary={boundary}",
            )


@pytest.mark.parametrize("seed", range(12))
def test_random_sizes_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x = rng.standard_normal((rng.integers(1, 40), rng.integers(1, 70)))
    kernel = rng.standard_normal((rng.integers(1, 10), rng.integers(1, 10)))
    for ours, theirs in FUNCTIONS:
        for mode in MODES:
            if mode == "valid" and _scipy_raises(theirs, x, kernel, mode):
                continue
            for boundary in BOUNDARIES:
                np.testing.assert_allclose(
                    ours(x, kernel, mode, boundary, -1.5),
                    theirs(x, kernel, mode, boundary, -1.5),
                    rtol=0, atol=1e-12, err_msg=f"{ours.__name__} {mode} {boundary}",
                )


def test_defaults_are_same_mode_zero_fill() -> None:
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((9, 8)), rng.standard_normal((4, 4))
    np.testing.assert_allclose(
        image.convolve2d(x, kernel), scipy.signal.convolve2d(x, kernel, "same")
    )
    np.testing.assert_allclose(
        image.correlate2d(x, kernel), scipy.signal.correlate2d(x, kernel, "same")
    )


def test_even_kernel_same_alignment_differs_from_flipped_convolution() -> None:
    # scipy's 'same' windows start (K-1)//2 before a pixel for correlation, K//2 for convolution.
    x = np.zeros((6, 6))
    x[2, 2] = 1.0
    kernel = np.arange(4.0).reshape(2, 2)
    correlated = image.correlate2d(x, kernel)
    convolved = image.convolve2d(x, kernel[::-1, ::-1])
    np.testing.assert_array_equal(correlated[1:3, 1:3], kernel[::-1, ::-1])
    np.testing.assert_array_equal(convolved[2:4, 2:4], kernel[::-1, ::-1])


def test_hand_computed_convolution() -> None:
    # The lecture's S(i, j) = sum_m sum_n I(i - m, j - n) K(m, n) on a 3x3 image, 'valid'.
    x = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[1.0, 0.0], [0.0, 2.0]])
    # S(1, 1) = 1 * I(1, 1) + 2 * I(0, 0) = 4 + 0 with the kernel flipped onto the window.
    np.testing.assert_array_equal(image.convolve2d(x, kernel, "valid"), [[4, 7], [13, 16]])
    np.testing.assert_array_equal(image.correlate2d(x, kernel, "valid"), [[8, 11], [17, 20]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_are_filtered_separately(dtype: type) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((15, 21, 3)).astype(dtype)
    for ours, theirs in FUNCTIONS:
        for mode in MODES:
            for boundary in BOUNDARIES:
                result = ours(x, kernels.SOBEL_X, mode, boundary)
                assert result.dtype == dtype
                assert result.flags.c_contiguous
                np.testing.assert_allclose(
                    result, _scipy(theirs, x, kernels.SOBEL_X, mode=mode, boundary=boundary),
                    rtol=0, atol=_tolerance(dtype, x, kernels.SOBEL_X, 0),
                )


def test_kernel_larger_than_image_in_valid_mode_swaps_per_channel() -> None:
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal((2, 3, 2)), rng.standard_normal((4, 5))
    for ours, theirs in FUNCTIONS:
        expected = _scipy(theirs, x, kernel, mode="valid")
        np.testing.assert_allclose(ours(x, kernel, "valid"), expected)
        assert ours(x, kernel, "valid").shape == (3, 3, 2)


def test_non_contiguous_inputs() -> None:
    rng = np.random.default_rng(4)
    base = rng.standard_normal((40, 50, 3))
    views = [
        base[::2, 1::3, 0], base[::-1, :, 1], np.asfortranarray(base[..., 2]), base[5:20, 7:30]
    ]
    kernel = rng.standard_normal((10, 6))[::2, ::-2]
    for x in views:
        for ours, theirs in FUNCTIONS:
            np.testing.assert_allclose(
                ours(x, kernel, "same", "symm"),
                _scipy(theirs, x, kernel, mode="same", boundary="symm"),
                rtol=0, atol=1e-12,
            )


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.bool_, np.float16])
def test_integer_and_bool_images_compute_in_float32(dtype: type) -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2 if dtype == np.bool_ else 256, size=(12, 10)).astype(dtype)
    result = image.convolve2d(x, kernels.EDGE, boundary="wrap")
    assert result.dtype == np.float32
    np.testing.assert_allclose(
        result,
        scipy.signal.convolve2d(x.astype(np.float64), kernels.EDGE, "same", "wrap"),
        rtol=0, atol=1e-3,
    )


def test_kernel_is_cast_to_the_image_dtype() -> None:
    x = np.ones((4, 4), np.float32)
    assert image.correlate2d(x, kernels.BLUR).dtype == np.float32  # BLUR is float64
    x64 = x.astype(np.float64)
    assert image.correlate2d(x64, kernels.BLUR.astype(np.float32)).dtype == np.float64
    assert image.correlate2d(x, [[1, 2], [3, 4]]).dtype == np.float32


def test_fillvalue_pads_the_image() -> None:
    zeros, ones = np.zeros((3, 3)), np.ones((3, 3))
    out = image.correlate2d(zeros, ones, "full", fillvalue=2)
    np.testing.assert_array_equal(out, scipy.signal.correlate2d(zeros, ones, "full", fillvalue=2))
    assert out[0, 0] == 16.0  # 8 of the 9 taps read the fill value
    assert out[2, 2] == 0.0


SQUARE, K3 = np.ones((5, 5)), np.ones((3, 3))


@pytest.mark.parametrize(
    ("x", "kernel", "options", "error", "message"),
    [
        (np.ones(5), K3, {}, ValueError,
         r"image must have shape \(H, W\) or \(H, W, C\), got shape \(5,\)"),
        (np.ones((2, 2, 2, 2)), K3, {}, ValueError, r"got shape \(2, 2, 2, 2\)"),
        (SQUARE, np.ones(3), {}, ValueError,
         r"kernel must have shape \(KH, KW\), got shape \(3,\)"),
        (SQUARE, np.ones((3, 3, 1)), {}, ValueError, r"kernel must have shape \(KH, KW\)"),
        (np.ones((0, 5)), K3, {}, ValueError, r"image must not be empty, got shape \(0, 5\)"),
        (np.ones((4, 5, 0)), K3, {}, ValueError, r"image must not be empty"),
        (SQUARE, np.ones((3, 0)), {}, ValueError, r"kernel must not be empty, got shape \(3, 0\)"),
        (SQUARE, K3, {"mode": "wide"}, ValueError,
         r"mode must be one of \('full', 'same', 'valid'\), got 'wide'"),
        (SQUARE, K3, {"boundary": "reflect"}, ValueError,
         r"boundary must be one of \('fill', 'wrap', 'symm'\), got 'reflect'"),
        (SQUARE, K3, {"fillvalue": "0"}, TypeError, r"fillvalue must be a real number, got '0'"),
        (np.ones((3, 8)), np.ones((5, 2)), {"mode": "valid"}, ValueError,
         r"image \(3, 8\) and kernel \(5, 2\)"),
        (np.array([["a"]]), np.ones((1, 1)), {}, TypeError,
         r"image must hold real numbers, got dtype <U1"),
        (np.ones((2, 2)), np.ones((1, 1), complex), {}, TypeError,
         r"kernel must hold real numbers, got dtype complex128"),
    ],
)
def test_errors(x, kernel, options: dict, error: type, message: str) -> None:
    for function in (image.convolve2d, image.correlate2d):
        with pytest.raises(error, match=message):
            function(x, kernel, **options)


# ---------------------------------------------------------------- kernels


def test_lecture_kernels() -> None:
    np.testing.assert_array_equal(kernels.BLUR * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(kernels.EDGE, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(kernels.EMBOSS, [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(kernels.SHARPEN, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(kernels.SOBEL_X, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(kernels.SOBEL_Y, kernels.SOBEL_X.T)
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(image.correlate2d(x, kernels.IDENTITY), x)


def test_named_kernels_are_read_only() -> None:
    for name in kernels.names():
        kernel = kernels.get(name)
        assert kernel.shape == (3, 3)
        assert kernel.dtype == np.float64
        with pytest.raises(ValueError, match="read-only"):
            kernel[0, 0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        kernels.EDGE[1, 1] = 0


def test_get_by_name() -> None:
    assert kernels.get("blur") is kernels.BLUR
    assert kernels.get("sobel_y") is kernels.SOBEL_Y
    with pytest.raises(ValueError, match=r"unknown kernel 'Blur'; known kernels: blur, edge, "):
        kernels.get("Blur")


@pytest.mark.parametrize(("size", "sigma"), [(1, 1.0), (3, 0.5), (4, 1.0), (7, 2.0), (15, 3)])
def test_gaussian(size: int, sigma: float) -> None:
    kernel = kernels.gaussian(size, sigma)
    assert kernel.shape == (size, size)
    assert kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel, kernel.T)
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1])
    offsets = np.arange(size) - (size - 1) / 2
    by_hand = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
    np.testing.assert_allclose(kernel, by_hand / by_hand.sum())


def test_box() -> None:
    np.testing.assert_allclose(kernels.box(3), np.full((3, 3), 1 / 9))
    assert kernels.box(4).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kernels.gaussian(0, 1.0), r"size must be a positive int, got 0"),
        (lambda: kernels.gaussian(3.5, 1.0), r"size must be a positive int, got 3.5"),
        (lambda: kernels.gaussian(3, 0.0), r"sigma must be a positive number, got 0.0"),
        (lambda: kernels.box(-2), r"size must be a positive int, got -2"),
        (lambda: kernels.box(True), r"size must be a positive int, got True"),
    ],
)
def test_kernel_builder_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- a network seeded by a kernel


def test_conv2d_layer_initialised_with_the_edge_kernel() -> None:
    from cnnkit import layers

    rng = np.random.default_rng(6)
    x = rng.random((2, 9, 11, 1)).astype(np.float32)
    layer = layers.Conv2D(1, 3, padding="same", use_bias=False, kernel_initializer=kernels.EDGE)
    y = layer(x)
    assert y.shape == (2, 9, 11, 1)
    for n in range(2):
        np.testing.assert_allclose(
            y[n, :, :, 0], scipy.signal.correlate2d(x[n, :, :, 0], kernels.EDGE, "same"),
            rtol=1e-5, atol=1e-5,
        )
        np.testing.assert_allclose(
            y[n, :, :, 0], image.correlate2d(x[n, :, :, 0], kernels.EDGE), rtol=1e-5, atol=1e-5
        )
    np.testing.assert_array_equal(layer.get_weights()[0][:, :, 0, 0], kernels.EDGE)
