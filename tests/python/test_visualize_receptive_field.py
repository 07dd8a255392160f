"""receptive_field against a brute-force probe, and the explain table of the summary.

The probe: with positive weights and inputs, raising one input pixel by a huge amount
raises every unit that depends on it (a convolution adds a positive multiple, ReLU passes
it, a max-pooling window takes it as its new maximum, an average includes it). One
forward pass over a batch holding one perturbed copy of the input per pixel therefore
shows, for every unit of a layer, exactly which input pixels it sees.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import layers
from cnnkit.models import Sequential
from cnnkit.visualize import receptive_field
from cnnkit.visualize.explain import explain_rows, explain_table, multiply_accumulates

BUMP = 1e8


def _positive_model(stack: list, input_shape: tuple, seed: int = 0) -> Sequential:
    model = Sequential([layers.Input(input_shape), *stack])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.0, w.shape) for w in model.get_weights()])
    return model


def _probe(model: Sequential, layer_index: int, spatial: tuple, channels: int) -> np.ndarray:
    """influence[unit..., pixel...]: whether raising that input pixel changes that unit
    (channels summed; every channel of an input pixel raised together)."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.0, 1.0, (*spatial, channels))
    pixels = int(np.prod(spatial))
    batch = np.repeat(base[None], pixels + 1, axis=0)
    for n, pixel in enumerate(np.ndindex(*spatial)):
        batch[(n, *pixel)] += BUMP
    x = batch
    for layer in model.layers[: layer_index + 1]:
        x = layer(x)
    # The last sample is the unperturbed input. A dependent unit moves by at least
    # BUMP * 0.5**depth / pool area (about 1e5 here), an independent one not at all.
    changed = np.abs(x[:-1] - x[-1:]).sum(axis=-1) > 1.0
    # (pixels, *unit_shape) -> (*unit_shape, *spatial)
    changed = changed.reshape(*spatial, *changed.shape[1:])
    rank = len(spatial)
    return np.moveaxis(changed, tuple(range(rank)), tuple(range(rank, 2 * rank)))


def _check_against_probe(model: Sequential, layer_index: int, input_shape: tuple) -> int:
    """Asserts the receptive field of every unit; returns how many were fully inside."""
    spatial, channels = input_shape[:-1], input_shape[-1]
    field = receptive_field(model, layer_index)
    influence = _probe(model, layer_index, spatial, channels)
    rank = len(spatial)
    interior = 0
    for unit in np.ndindex(*influence.shape[:rank]):
        seen = np.argwhere(influence[unit])
        assert len(seen), f"unit {unit} sees no input pixel"
        inside = True
        for axis in range(rank):
            first = field["start"][axis] + unit[axis] * field["jump"][axis]
            last = first + field["size"][axis] - 1
            low, high = seen[:, axis].min(), seen[:, axis].max()
            message = f"unit {unit} axis {axis}: sees {low}..{high}, field {first}..{last}"
            assert max(first, 0) <= low, message
            assert high <= min(last, spatial[axis] - 1), message
            if first >= 0 and last < spatial[axis]:
                assert (low, high) == (first, last), f"unit {unit} axis {axis}"
            else:
                inside = False
        interior += inside
    return interior


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # The lecture's first example: two 3x3 convolutions and 2x2 max pooling.
        (
            lambda: [
                layers.Conv2D(2, 3, activation="relu"),
                layers.Conv2D(2, 3),
                layers.MaxPooling2D(),
            ],
            {"size": (6, 6), "jump": (2, 2), "start": (0, 0)},
        ),
        # 'same' 3x3: one row of padding on each side.
        (
            lambda: [layers.Conv2D(2, 3, padding="same")],
            {"size": (3, 3), "jump": (1, 1), "start": (-1, -1)},
        ),
        # 'same' 4x4: total padding 3, the smaller half (1) on top/left.
        (
            lambda: [layers.Conv2D(2, 4, padding="same")],
            {"size": (4, 4), "jump": (1, 1), "start": (-1, -1)},
        ),
        # 'same' 3x3 stride 2 on 12 rows: out 6, total padding 1, all of it at the bottom;
        # on 11 columns: out 6, total padding 2, one on the left.
        (
            lambda: [layers.Conv2D(2, 3, strides=2, padding="same")],
            {"size": (3, 3), "jump": (2, 2), "start": (0, -1)},
        ),
        # Dilation 2 makes a 3x3 kernel span 5 pixels; the pool above doubles the jump.
        (
            lambda: [layers.Conv2D(2, 3, dilation_rate=2), layers.AveragePooling2D(2)],
            {"size": (6, 6), "jump": (2, 2), "start": (0, 0)},
        ),
        # Non-square kernel and strides, overlapping pooling, pass-through layers.
        (
            lambda: [
                layers.Conv2D(2, (3, 2), strides=(2, 1)),
                layers.ReLU(),
                layers.Dropout(0.5),
                layers.MaxPooling2D(3, strides=1, padding="same"),
            ],
            {"size": (7, 4), "jump": (2, 1), "start": (-2, -1)},
        ),
    ],
)
def test_hand_computed_fields_match_the_probe(stack, expected) -> None:
    input_shape = (12, 11, 1)
    model = _positive_model(stack(), input_shape)
    assert receptive_field(model, -1) == expected
    assert _check_against_probe(model, len(model.layers) - 1, input_shape) > 0


def _random_layer(rng: np.random.Generator, rank: int) -> layers.Layer:
    kind = rng.choice(["conv", "conv", "max", "avg", "relu"])
    padding = str(rng.choice(["valid", "same"]))
    if kind == "relu":
        return layers.ReLU()
    if kind == "conv":
        cls = layers.Conv2D if rank == 2 else layers.Conv1D
        return cls(
            2,
            tuple(int(v) for v in rng.integers(1, 5, rank)),
            strides=tuple(int(v) for v in rng.integers(1, 4, rank)),
            dilation_rate=tuple(int(v) for v in rng.integers(1, 3, rank)),
            padding=padding,
        )
    cls = {
        (2, "max"): layers.MaxPooling2D,
        (2, "avg"): layers.AveragePooling2D,
        (1, "max"): layers.MaxPooling1D,
        (1, "avg"): layers.AveragePooling1D,
    }[(rank, kind)]
    pool = tuple(int(v) for v in rng.integers(2, 4, rank))
    return cls(pool, strides=tuple(int(v) for v in rng.integers(1, 3, rank)), padding=padding)


@pytest.mark.parametrize("rank", [1, 2])
def test_random_stacks_match_the_probe(rank: int) -> None:
    rng = np.random.default_rng(42 + rank)
    input_shape = (23, 19, 2) if rank == 2 else (41, 2)
    tested = interior_total = 0
    while tested < 12:
        try:
            model = _positive_model(
                [_random_layer(rng, rank) for _ in range(rng.integers(2, 5))], input_shape, tested
            )
        except ValueError:  # a 'valid' window larger than what is left of the input
            continue
        for index in range(len(model.layers)):
            interior_total += _check_against_probe(model, index, input_shape)
        tested += 1
    assert interior_total > 100  # the exact-bounds branch was exercised, not only clipping


def test_channels_first_gives_the_same_field() -> None:
    def stack(fmt: str) -> list:
        return [
            layers.Conv2D(2, 3, strides=2, padding="same", data_format=fmt),
            layers.MaxPooling2D(3, strides=2, padding="same", data_format=fmt),
        ]

    last = Sequential([layers.Input((13, 10, 1)), *stack("channels_last")])
    first = Sequential([layers.Input((1, 13, 10)), *stack("channels_first")])
    assert receptive_field(first, 1) == receptive_field(last, 1)
    # Rows: 13 -> 7 (padding 1 on top) -> 4 (padding 1 on top, at jump 2): start -1 - 2.
    # Columns: 10 -> 5 (padding 0 on the left) -> 3 (padding 1 on the left): start 0 - 2.
    assert receptive_field(last, 1) == {"size": (7, 7), "jump": (4, 4), "start": (-3, -2)}


def test_layers_are_found_by_name_index_and_object() -> None:
    model = Sequential(
        [layers.Input((9, 9, 1)), layers.Conv2D(1, 3, name="c"), layers.MaxPooling2D(name="p")]
    )
    expected = receptive_field(model, "p")
    assert receptive_field(model, 1) == expected
    assert receptive_field(model, -1) == expected
    assert receptive_field(model, model.layers[1]) == expected


def test_dense_and_flatten_have_no_receptive_field() -> None:
    model = Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(2, 3),
            layers.Flatten(name="flat"),
            layers.Dense(3, name="fc"),
        ]
    )
    with pytest.raises(ValueError, match=r'"flat" \(Flatten\) has no receptive field'):
        receptive_field(model, "flat")
    with pytest.raises(ValueError, match=r'"flat" \(Flatten\) has no receptive field'):
        receptive_field(model, "fc")
    with pytest.raises(ValueError, match=r'No layer named "nope".*conv2d'):
        receptive_field(model, "nope")
    with pytest.raises(ValueError, match="layer index 7 is out of range for a model with 3"):
        receptive_field(model, 7)
    with pytest.raises(TypeError, match="name, index or layer object, got float"):
        receptive_field(model, 1.0)


def test_unbuilt_model_is_refused() -> None:
    model = Sequential([layers.Conv2D(1, 3, padding="same")])
    with pytest.raises(ValueError, match="not built"):
        receptive_field(model, 0)


def test_explain_rows_padding_fields_and_macs() -> None:
    model = Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="first"),
            layers.Conv2D(64, 3, strides=2, padding="same", name="strided"),
            layers.MaxPooling2D(name="pool"),
            layers.Flatten(name="flat"),
            layers.Dense(10, name="out"),
        ]
    )
    rows = explain_rows(model)
    assert [r["padding"] for r in rows] == [(0, 0, 0, 0), (0, 1, 0, 1), (0, 0, 0, 0), None, None]
    # 26 -> 13 with stride 2: total padding (13-1)*2 + 3 - 26 = 1, all at the bottom/right.
    assert rows[1]["receptive_field"] == {"size": (5, 5), "jump": (2, 2), "start": (0, 0)}
    assert rows[3]["receptive_field"] is None
    assert [r["macs"] for r in rows] == [
        26 * 26 * 32 * 3 * 3 * 1,
        13 * 13 * 64 * 3 * 3 * 32,
        0,
        0,
        6 * 6 * 64 * 10,
    ]
    assert multiply_accumulates(model.layers[0]) == rows[0]["macs"]
    table = explain_table(model).splitlines()
    strided = next(line for line in table if line.startswith(" strided (Conv2D)"))
    assert strided.split()[2:] == ["0,1,0,1", "5x5", "2x2", "0,0", f"{rows[1]['macs']:,}"]
    flat = next(line for line in table if line.startswith(" flat (Flatten)"))
    assert flat.split()[2:] == ["-", "-", "-", "-", "0"]
    assert table[-1] == f" Total MACs per sample: {sum(r['macs'] for r in rows):,}"


def test_summary_explain_appends_the_geometry_table() -> None:
    model = Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(8, 3, padding="same", name="c"),
            layers.Flatten(name="f"),
            layers.Dense(2, name="d"),
        ]
    )
    plain, explained = [], []
    model.summary(print_fn=plain.append)
    model.summary(print_fn=explained.append, explain=True)
    assert "Geometry" not in plain[0]
    assert explained[0].startswith(plain[0] + "\n\n")
    assert explained[0].endswith(explain_table(model))
    row = next(line for line in explained[0].splitlines() if line.startswith(" c (Conv2D)"))
    assert row.split()[2:5] == ["1,1,1,1", "3x3", "1x1"]
