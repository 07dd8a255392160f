"""top_activations on data with planted patterns, and against a sort of every unit."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import layers
from cnnkit.models import Sequential
from cnnkit.visualize import top_activations

DIAGONAL = np.eye(3)
ANTI_DIAGONAL = np.fliplr(np.eye(3))


def _detector(padding: str = "valid", pool: bool = False) -> Sequential:
    """Two 3x3 filters set by hand: filter 0 sums the diagonal, filter 1 the anti-diagonal."""
    kernel = np.stack([DIAGONAL, ANTI_DIAGONAL], axis=-1)[:, :, None, :]
    stack = [
        layers.Input((12, 12, 1)),
        layers.Conv2D(
            2, 3, padding=padding, use_bias=False, kernel_initializer=kernel, dtype="float64"
        ),
    ]
    if pool:
        stack.append(layers.MaxPooling2D(2, dtype="float64"))
    return Sequential(stack)


def _planted_data(rng: np.random.Generator) -> tuple[np.ndarray, list, list]:
    """Faint noise with diagonals (channel 0) and anti-diagonals (channel 1) planted at known
    places with distinct brightness; returns x and each channel's plants, brightest first."""
    x = rng.uniform(0.0, 0.02, (40, 12, 12, 1))
    plants = {0: [], 1: []}
    spots = rng.permutation([(n, i, j) for n in range(40) for i in (0, 4, 8) for j in (1, 5, 9)])
    for number, (n, i, j) in enumerate(spots[:16]):
        channel, brightness = number % 2, 1.0 - 0.015 * number
        pattern = DIAGONAL if channel == 0 else ANTI_DIAGONAL
        window = x[n, i : i + 3, j : j + 3, 0]
        window[pattern == 1] = brightness
        plants[channel].append((int(n), (int(i), int(j)), 3 * brightness))
    return x, plants[0], plants[1]


def test_planted_patterns_are_found_at_their_place_brightest_first() -> None:
    x, diagonals, anti_diagonals = _planted_data(np.random.default_rng(0))
    top = top_activations(_detector(), 0, x, k=8, batch_size=7)
    assert len(top) == 2
    for channel, plants in ((0, diagonals), (1, anti_diagonals)):
        assert [(e["index"], e["position"]) for e in top[channel]] == [p[:2] for p in plants]
        np.testing.assert_allclose([e["value"] for e in top[channel]], [p[2] for p in plants])
        for entry in top[channel]:
            (i, j), n = entry["position"], entry["index"]
            np.testing.assert_array_equal(entry["patch"], x[n, i : i + 3, j : j + 3])


def test_streaming_in_batches_matches_one_batch() -> None:
    x, _, _ = _planted_data(np.random.default_rng(1))
    model = _detector(padding="same", pool=True)
    whole = top_activations(model, -1, x, k=12, batch_size=len(x))
    for batch_size in (1, 3, 16):
        streamed = top_activations(model, -1, x, k=12, batch_size=batch_size)
        for a, b in zip(whole, streamed):
            assert [(e["index"], e["position"], e["value"]) for e in a] == [
                (e["index"], e["position"], e["value"]) for e in b
            ]


def _reference(model: Sequential, index: int, x: np.ndarray, k: int) -> list:
    """Every unit of the layer sorted by value (down), then by sample, row and column."""
    y = x
    for layer in model.layers[: index + 1]:
        y = layer(y)
    result = []
    for channel in range(y.shape[-1]):
        values = y[..., channel].reshape(-1)
        order = np.lexsort((np.arange(values.size), -values))[:k]
        units = [np.unravel_index(u, y.shape[:-1]) for u in order]
        result.append([(int(u[0]), tuple(int(p) for p in u[1:])) for u in units])
    return result


def test_relu_ties_break_towards_the_first_unit_whatever_the_batches() -> None:
    # Each unit sums 8 uniform pixels (mean 4); biases near -5 leave about one unit in ten
    # positive, so every map's top 40 ends in a run of exact zeros after ReLU.
    rng = np.random.default_rng(2)
    model = Sequential(
        [
            layers.Input((6, 5, 2)),
            layers.Conv2D(
                3,
                2,
                activation="relu",
                kernel_initializer=np.ones((2, 2, 2, 3)),
                bias_initializer=np.array([-4.7, -5.0, -5.5]),
                dtype="float64",
            ),
        ]
    )
    x = rng.uniform(0, 1, (9, 6, 5, 2))
    expected = _reference(model, 0, x, 40)
    for batch_size in (1, 4, 9):
        top = top_activations(model, 0, x, k=40, batch_size=batch_size)
        assert [[(e["index"], e["position"]) for e in entries] for entries in top] == expected
    assert all(0 < sum(e["value"] > 0 for e in entries) < 40 for entries in top)


def test_patches_are_clipped_at_the_border() -> None:
    # 'same' padding then 2x2 pooling: a pooled unit sees 4x4 input pixels starting at
    # row 2*i - 1, so unit (0, 0) sees rows -1..2, clipped to 0..2.
    x = np.zeros((2, 12, 12, 1))
    x[1, 0, 0, 0] = x[1, 1, 1, 0] = 1.0  # a diagonal cut by the top-left corner
    x[0, 9:12, 9:12, 0] = ANTI_DIAGONAL
    top = top_activations(_detector(padding="same", pool=True), -1, x, k=1)
    corner = top[0][0]
    assert (corner["index"], corner["position"], corner["value"]) == (1, (0, 0), 2.0)
    np.testing.assert_array_equal(corner["patch"], x[1, 0:3, 0:3])
    far = top[1][0]  # the anti-diagonal's centre (10, 10) lies under pooled unit (5, 5)
    assert (far["index"], far["position"], far["value"]) == (0, (5, 5), 3.0)
    np.testing.assert_array_equal(far["patch"], x[0, 9:12, 9:12])


def test_channels_first_model_gives_patches_in_its_own_layout() -> None:
    x, diagonals, _ = _planted_data(np.random.default_rng(3))
    kernel = np.stack([DIAGONAL, ANTI_DIAGONAL], axis=-1)[:, :, None, :]
    model = Sequential(
        [
            layers.Input((1, 12, 12)),
            layers.Conv2D(
                2,
                3,
                use_bias=False,
                kernel_initializer=kernel,
                data_format="channels_first",
                dtype="float64",
            ),
        ]
    )
    first = np.moveaxis(x, -1, 1)
    top = top_activations(model, 0, first, k=3)
    assert [(e["index"], e["position"]) for e in top[0]] == [p[:2] for p in diagonals[:3]]
    i, j = top[0][0]["position"]
    np.testing.assert_array_equal(
        top[0][0]["patch"], first[top[0][0]["index"], :, i : i + 3, j : j + 3]
    )


def test_conv1d_positions_are_one_tuples() -> None:
    model = Sequential(
        [
            layers.Input((10, 1)),
            layers.Conv1D(
                1, 3, use_bias=False, kernel_initializer=np.ones((3, 1, 1)), dtype="float64"
            ),
        ]
    )
    x = np.zeros((3, 10, 1))
    x[2, 4:7, 0] = 1.0
    (best,) = top_activations(model, 0, x, k=1)[0]
    assert (best["index"], best["position"], best["value"]) == (2, (4,), 3.0)
    np.testing.assert_array_equal(best["patch"], x[2, 4:7])


def test_bad_arguments() -> None:
    model = _detector()
    x = np.zeros((2, 12, 12, 1))
    with pytest.raises(ValueError, match="k must be a positive int, got k=0"):
        top_activations(model, 0, x, k=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        top_activations(model, 0, x, batch_size=0)
    with pytest.raises(ValueError, match=r"k=201 exceeds the 200 units"):
        top_activations(model, 0, x, k=201)
    with pytest.raises(ValueError, match=r"non-empty batch of inputs, got shape \(0, 12, 12, 1\)"):
        top_activations(model, 0, x[:0])
    flat = Sequential([layers.Input((4, 4, 1)), layers.Flatten(name="f"), layers.Dense(2)])
    with pytest.raises(ValueError, match=r'"f" \(Flatten\) has no receptive field'):
        top_activations(flat, -1, np.zeros((1, 4, 4, 1)))
