"""cnnkit.signal against numpy.convolve / numpy.correlate in float64."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import signal

MODES = ("full", "same", "valid")
# Odd and even lengths, equal lengths, either signal longer, and rows past one work chunk.
LENGTH_PAIRS = [
    (1, 1), (1, 4), (4, 1), (2, 2), (5, 3), (3, 5), (6, 4), (4, 6), (7, 7), (8, 3), (3, 8),
    (16, 5), (17, 16), (33, 2), (64, 9), (100, 101), (5000, 7), (3, 4099), (2500, 600),
]


def _tolerance(dtype: np.dtype, f: np.ndarray, g: np.ndarray) -> float:
    eps = 1e-6 if dtype == np.float32 else 1e-13
    return eps * np.abs(f).sum() * np.abs(g).max() + eps


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("n", "k"), LENGTH_PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy(n: int, k: int, mode: str, dtype: type) -> None:
    rng = np.random.default_rng(n * 1000 + k)
    f = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(k).astype(dtype)
    f64, g64 = f.astype(np.float64), g.astype(np.float64)
    for ours, theirs in ((signal.convolve, np.convolve), (signal.correlate, np.correlate)):
        result = ours(f, g, mode)
        expected = theirs(f64, g64, mode)
        assert result.dtype == dtype
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=0, atol=_tolerance(dtype, f, g))


def test_default_mode_is_full() -> None:
    f, g = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])
    np.testing.assert_allclose(signal.convolve(f, g), np.convolve(f, g, "full"))
    np.testing.assert_allclose(signal.correlate(f, g), np.correlate(f, g, "full"))


def test_hand_computed() -> None:
    # (f * g)[t] = sum f[tau] g[t - tau]: [1, 2, 3] * [1, 1] = [1, 3, 5, 3].
    np.testing.assert_array_equal(signal.convolve([1, 2, 3], [1, 1]), [1, 3, 5, 3])
    # Correlation slides g unflipped: [1, 2, 3] (x) [1, -1] = [-1, -1, -1, 3] in full mode.
    np.testing.assert_array_equal(signal.correlate([1, 2, 3], [1, -1]), [-1, -1, -1, 3])
    np.testing.assert_array_equal(signal.correlate([1, 2, 3], [1, -1], "valid"), [-1, -1])


def test_correlate_swaps_and_reverses_when_g_is_longer() -> None:
    f, g = np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0, 3.0])
    for mode in MODES:
        expected = np.correlate(f, g, mode)
        np.testing.assert_allclose(signal.correlate(f, g, mode), expected)
        np.testing.assert_allclose(signal.correlate(g, f, mode)[::-1], expected)


def test_dtypes() -> None:
    ints = np.array([1, 2, 3], dtype=np.int64)
    assert signal.convolve(ints, ints).dtype == np.float32
    assert signal.convolve([True, False], [1, 2]).dtype == np.float32
    np.testing.assert_array_equal(signal.convolve(ints, ints), np.convolve(ints, ints))
    mixed = signal.correlate(np.ones(4, np.float32), np.ones(2, np.float64))
    assert mixed.dtype == np.float64


def test_non_contiguous_inputs() -> None:
    rng = np.random.default_rng(5)
    base = rng.standard_normal(200)
    f, g = base[::3], base[150:120:-2]
    assert not f.flags.c_contiguous
    for mode in MODES:
        np.testing.assert_allclose(signal.convolve(f, g, mode), np.convolve(f, g, mode))
        np.testing.assert_allclose(signal.correlate(f, g, mode), np.correlate(f, g, mode))


def test_scalars_are_one_sample_signals() -> None:
    np.testing.assert_array_equal(signal.convolve(2.0, [1.0, 3.0]), [2.0, 6.0])


@pytest.mark.parametrize(
    ("f", "g", "mode", "error", "message"),
    [
        ([], [1.0], "full", ValueError, r"f must not be empty, got shape \(0,\)"),
        ([1.0], np.zeros((0,)), "full", ValueError, r"g must not be empty"),
        (np.ones((2, 2)), [1.0], "full", ValueError, r"f must be a 1-D signal, got shape \(2, 2\)"),
        ([1.0], [[1.0, 2.0]], "full", ValueError, r"g must be a 1-D signal, got shape \(1, 2\)"),
        ([1.0], [1.0], "circular", ValueError, r"mode must be one of .*'full'.*got 'circular'"),
        (["a"], [1.0], "full", TypeError, r"f must hold real numbers, got dtype <U1"),
        ([1j], [1.0], "full", TypeError, r"f must hold real numbers, got dtype complex128"),
    ],
)
def test_errors(f, g, mode: str, error: type, message: str) -> None:
    for function in (signal.convolve, signal.correlate):
        with pytest.raises(error, match=message):
            function(f, g, mode)
