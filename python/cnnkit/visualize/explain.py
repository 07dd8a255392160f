"""The geometry behind model.summary(explain=True): padding applied, receptive field, MACs.

Shapes in a summary say what comes out of a layer; these columns say why: how many rows of
padding 'same' actually added on each side, how much of the input one unit sees, and how
much arithmetic the layer costs per sample.
"""

from __future__ import annotations

import math

from cnnkit.layers import Dense, Layer
from cnnkit.visualize._model import CONV_LAYERS, model_layers
from cnnkit.visualize.receptive_field import receptive_fields, window_geometry

__all__ = ["explain_rows", "explain_table", "multiply_accumulates"]

_HEADER = ("Layer", "Padding t,b,l,r", "Receptive field", "Jump", "Start", "MACs")


def multiply_accumulates(layer: Layer) -> int:
    """Multiply-accumulates per sample: every output value of a convolution or Dense layer
    costs one per kernel weight feeding it; other layers count 0."""
    if not layer.built or not isinstance(layer, (*CONV_LAYERS, Dense)):
        return 0
    shape = layer.output_shape
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        positions = math.prod(shape[2:])
    else:
        positions = math.prod(shape[1:-1])
    kernel = layer.weights[0]  # (..., in, out): kernel.size / out weights feed each output
    return positions * kernel.size


def _padding(layer: Layer) -> tuple[int, ...] | None:
    """(top, bottom, left, right) for 2-D windows, (left, right) for 1-D; None if no window."""
    try:
        geometry = window_geometry(layer)
    except ValueError:
        return None
    if geometry is None:
        return None
    return tuple(p for pair in zip(geometry.pad_before, geometry.pad_after) for p in pair)


def explain_rows(model: object) -> list[dict]:
    """One dict per layer: "name", "type", "padding" (None for layers without a window),
    "receptive_field" (None where positions are mixed) and "macs"."""
    layers = model_layers(model)
    fields = receptive_fields(model)
    return [
        {
            "name": layer.name,
            "type": type(layer).__name__,
            "padding": _padding(layer),
            "receptive_field": field,
            "macs": multiply_accumulates(layer),
        }
        for layer, field in zip(layers, fields)
    ]


def _by_axis(values: tuple[int, ...], joiner: str) -> str:
    return joiner.join(str(v) for v in values)


def explain_table(model: object) -> str:
    """The rows of explain_rows as a text table, with the total MACs per sample."""
    explained = explain_rows(model)
    rows = []
    for row in explained:
        field = row["receptive_field"]
        rows.append(
            (
                f"{row['name']} ({row['type']})",
                "-" if row["padding"] is None else _by_axis(row["padding"], ","),
                "-" if field is None else _by_axis(field["size"], "x"),
                "-" if field is None else _by_axis(field["jump"], "x"),
                "-" if field is None else _by_axis(field["start"], ","),
                f"{row['macs']:,}",
            )
        )
    widths = [max(len(cells[c]) for cells in [_HEADER, *rows]) for c in range(len(_HEADER))]

    def line(cells: tuple[str, ...]) -> str:
        text = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return " " + "  ".join(text)

    total = sum(row["macs"] for row in explained)
    return "\n".join(
        [
            " Geometry: padding applied, receptive field in input pixels (size, jump between",
            " neighbouring units, start of unit 0), multiply-accumulates per sample",
            line(_HEADER),
            " " + "-" * (sum(widths) + 2 * (len(widths) - 1)),
            *(line(cells) for cells in rows),
            f" Total MACs per sample: {total:,}",
        ]
    )
