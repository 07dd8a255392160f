"""The plot_* functions render with Agg, have the expected panels, save PNGs, and say how to
install matplotlib when it is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from cnnkit import layers  # noqa: E402
from cnnkit.models import Sequential  # noqa: E402
from cnnkit.visualize import (  # noqa: E402
    feature_maps,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_top_activations,
    top_activations,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _model(channels: int = 1) -> Sequential:
    return Sequential(
        [
            layers.Input((14, 14, channels)),
            layers.Conv2D(6, 3, activation="relu", name="c1"),
            layers.Conv2D(10, 3, padding="same", name="c2"),
            layers.MaxPooling2D(name="pool"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _image_axes(figure) -> list:
    return [ax for ax in figure.axes if ax.images]


def _rendered(figure, tmp_path, name: str) -> bytes:
    path = tmp_path / name
    figure.savefig(path)
    return path.read_bytes()


def test_filters_of_a_first_layer_one_panel_per_filter(tmp_path) -> None:
    model = _model()
    figure = plot_filters(model.layers[0], path=tmp_path / "filters.png")
    assert len(_image_axes(figure)) == 6
    assert (tmp_path / "filters.png").read_bytes().startswith(PNG_SIGNATURE)
    # Each panel shows its filter's 3x3 kernel.
    first = _image_axes(figure)[0].images[0].get_array()
    assert first.shape == (3, 3)
    np.testing.assert_allclose(first, model.layers[0].get_weights()[0][:, :, 0, 0], rtol=1e-6)


def test_filters_of_an_rgb_layer_are_colour_images() -> None:
    figure = plot_filters(_model(channels=3).layers[0])
    image = _image_axes(figure)[0].images[0].get_array()
    assert image.shape == (3, 3, 3)
    assert image.min() >= 0.0
    assert image.max() <= 1.0


def test_filters_of_a_deeper_layer_per_input_channel() -> None:
    layer = _model().layers[1]  # 10 filters over 6 input channels
    assert len(_image_axes(plot_filters(layer))) == 10 * 6
    assert len(_image_axes(plot_filters(layer, max_filters=4, max_channels=2))) == 4 * 2
    wide = Sequential([layers.Input((5, 5, 2)), layers.Conv2D(20, 3)]).layers[0]
    assert len(_image_axes(plot_filters(wide))) == 16 * 2  # deeper layers: 16 filters at most


def test_filters_refuse_other_layers() -> None:
    with pytest.raises(ValueError, match="plot_filters draws the 2-D kernels of a Conv2D layer"):
        plot_filters(_model().layers[2])


def test_feature_maps_input_plus_one_panel_per_map(tmp_path) -> None:
    model = _model()
    x = np.random.default_rng(0).uniform(0, 1, (14, 14, 1)).astype(np.float32)
    figure = plot_feature_maps(model, x, max_maps=8)
    # The input, then min(channels, max_maps) maps of c1 (6), c2 (8 of 10) and pool (8 of 10).
    assert len(_image_axes(figure)) == 1 + 6 + 8 + 8
    shown = _image_axes(figure)[1].images[0].get_array()
    np.testing.assert_array_equal(shown, feature_maps(model, x[None], "c1")["c1"][0, :, :, 0])
    assert _rendered(figure, tmp_path, "maps.png").startswith(PNG_SIGNATURE)
    chosen = plot_feature_maps(model, x[None], layers=["c2"], max_maps=32)
    assert len(_image_axes(chosen)) == 1 + 10


def test_feature_maps_need_a_single_input() -> None:
    with pytest.raises(ValueError, match=r"single sample or a batch of one, got shape \(2, 14"):
        plot_feature_maps(_model(), np.zeros((2, 14, 14, 1)))


def test_top_activations_one_mosaic_per_map(tmp_path) -> None:
    model = _model()
    x = np.random.default_rng(1).uniform(0, 1, (20, 14, 14, 1))
    figure = plot_top_activations(
        model, "c2", x, k=4, max_maps=None, batch_size=8, path=tmp_path / "top.png"
    )
    panels = _image_axes(figure)
    assert len(panels) == 10
    assert (tmp_path / "top.png").read_bytes().startswith(PNG_SIGNATURE)
    # c2 units see 5x5 pixels; k=4 patches tile a 2x2 grid with one pixel between them.
    mosaic = panels[0].images[0].get_array()
    assert mosaic.shape == (11, 11)
    # Each patch sits in its cell where it lies in the 5x5 field: a patch clipped by the
    # top/left border of the image is shifted down/right, the uncovered cells are masked.
    for n, entry in enumerate(top_activations(model, "c2", x, k=4)[0]):
        (i, j), patch = entry["position"], entry["patch"][..., 0]
        top, left = (n // 2) * 6 + (1 if i == 0 else 0), (n % 2) * 6 + (1 if j == 0 else 0)
        cell = mosaic[top : top + patch.shape[0], left : left + patch.shape[1]]
        np.testing.assert_allclose(cell, patch)
        assert (
            np.ma.count_masked(
                mosaic[(n // 2) * 6 : (n // 2) * 6 + 5, (n % 2) * 6 : (n % 2) * 6 + 5]
            )
            == 25 - patch.size
        )
    assert len(_image_axes(plot_top_activations(model, "c1", x, k=9))) == 6


def test_history_one_panel_per_quantity_with_both_curves(tmp_path) -> None:
    history = {
        "loss": [1.0, 0.6, 0.4],
        "accuracy": [0.5, 0.7, 0.8],
        "val_loss": [1.1, 0.7, 0.6],
        "val_accuracy": [0.45, 0.65, 0.7],
    }
    figure = plot_history(history, path=tmp_path / "history.png")
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    loss_lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["train", "validation"]
    np.testing.assert_array_equal(loss_lines[1].get_ydata(), history["val_loss"])
    assert (tmp_path / "history.png").read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="plot_history needs the History returned by fit"):
        plot_history({})


def test_history_from_fit() -> None:
    model = Sequential([layers.Input((3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(3)
    history = model.fit(rng.normal(size=(16, 3)), rng.integers(0, 2, 16), epochs=2, verbose=0)
    assert [ax.get_title() for ax in plot_history(history).axes] == ["loss", "accuracy"]


def test_missing_matplotlib_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    model = _model()
    x = np.zeros((2, 14, 14, 1))
    for plot in (
        lambda: plot_filters(model.layers[0]),
        lambda: plot_feature_maps(model, x[0]),
        lambda: plot_top_activations(model, "c1", x),
        lambda: plot_history({"loss": [1.0]}),
    ):
        with pytest.raises(ImportError, match=r"pip install cnnkit\[viz\]"):
            plot()
    # The rest of cnnkit.visualize does not need it.
    assert feature_maps(model, x)["c1"].shape == (2, 12, 12, 6)
    assert len(top_activations(model, "c1", x, k=2)) == 6


def test_importing_cnnkit_visualize_without_matplotlib() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["matplotlib"] = None
        import numpy as np
        import cnnkit.visualize as viz
        from cnnkit import layers
        from cnnkit.models import Sequential
        model = Sequential([layers.Input((5, 5, 1)), layers.Conv2D(1, 3)])
        print(viz.receptive_field(model, 0)["size"])
        try:
            viz.plot_filters(model.layers[0])
        except ImportError as error:
            print(error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "(3, 3)"
    assert lines[1].endswith("install it with: pip install cnnkit[viz]")
