"""model.summary() against Keras 3's numbers and table text (pinned, no Keras needed)."""

from __future__ import annotations

import pytest
from cnnkit import layers
from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten, Input
from cnnkit.models import Sequential
from cnnkit.models.seeds import seed_a, seed_b

# Keras 3.x, keras.Sequential of the lecture's first example, summary() on a terminal whose
# width gives Keras's line length 76 (the width of a captured/non-interactive run).
SEED_A_TABLE_76 = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 24, 24, 64)     │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 12, 12, 64)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 12, 12, 64)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 9216)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 128)            │     1,179,776 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout_1 (Dropout)             │ (None, 128)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │         1,290 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,199,882 (4.58 MB)
 Trainable params: 1,199,882 (4.58 MB)
 Non-trainable params: 0 (0.00 B)"""

SEED_A_ROWS = [
    ("conv2d", (None, 26, 26, 32), 320),
    ("conv2d_1", (None, 24, 24, 64), 18496),
    ("max_pooling2d", (None, 12, 12, 64), 0),
    ("dropout", (None, 12, 12, 64), 0),
    ("flatten", (None, 9216), 0),
    ("dense", (None, 128), 1179776),
    ("dropout_1", (None, 128), 0),
    ("dense_1", (None, 10), 1290),
]

SEED_B_ROWS = [
    ((None, 98, 98, 32), 896),
    ((None, 96, 96, 32), 9248),
    ((None, 48, 48, 32), 0),
    ((None, 48, 48, 32), 0),
    ((None, 46, 46, 64), 18496),
    ((None, 44, 44, 64), 36928),
    ((None, 22, 22, 64), 0),
    ((None, 22, 22, 64), 0),
    ((None, 30976), 0),
    ((None, 256), 7930112),
    ((None, 256), 0),
    ((None, 10), 2570),
]


@pytest.fixture(autouse=True)
def _fresh_names():
    layers.reset_names()


def _captured(model, **kwargs) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_seed_a_table_text_matches_keras():
    assert _captured(seed_a(), line_length=76) == SEED_A_TABLE_76


def test_seed_a_shapes_and_counts():
    model = seed_a()
    assert [(layer.name, layer.output_shape, layer.count_params()) for layer in model.layers] == (
        SEED_A_ROWS
    )
    assert model.count_params() == 1_199_882


def test_seed_b_shapes_and_counts():
    model = seed_b()
    assert [(layer.output_shape, layer.count_params()) for layer in model.layers] == SEED_B_ROWS
    assert model.count_params() == 7_998_250
    text = _captured(model, line_length=88)
    assert " Total params: 7,998,250 (30.51 MB)" in text
    assert (
        "│ dense (Dense)                        │ (None, 256)                 │       7,930,112 │"
        in text
    )


def test_default_width_follows_the_terminal_like_keras(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    wide = _captured(seed_a())
    assert all(len(line) == 88 for line in wide.splitlines()[1:-3])
    layers.reset_names()
    monkeypatch.setenv("COLUMNS", "80")
    assert _captured(seed_a()) == SEED_A_TABLE_76


def test_summary_prints_to_stdout_by_default(capsys):
    seed_a().summary(line_length=76)
    assert capsys.readouterr().out == SEED_A_TABLE_76 + "\n"


def test_non_trainable_parameters_and_input_layer():
    model = Sequential(
        [Input((8, 8, 3)), Conv2D(4, 3), BatchNormalization(), Flatten(), Dense(2)], name="with_bn"
    )
    text = _captured(model, line_length=76)
    assert text.startswith('Model: "with_bn"\n')
    assert "input_layer" not in text
    assert "│ batch_normalization (BatchNormalization) " not in text  # wrapped like rich does
    assert "│ batch_normalization             │ (None, 6, 6, 4)        │            16 │" in text
    assert "│ (BatchNormalization)            │                        │               │" in text
    # conv 112 + bn 16 (8 trainable) + dense 290
    assert text.endswith(
        " Total params: 418 (1.63 KB)\n"
        " Trainable params: 410 (1.60 KB)\n"
        " Non-trainable params: 8 (32.00 B)"
    )


def test_unbuilt_model_shows_unknown_shapes():
    text = _captured(Sequential([Dense(3)]), line_length=76)
    assert "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │" in text
