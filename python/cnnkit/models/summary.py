"""model.summary(): the Keras 3 table, drawn with box characters and no extra dependency.

Keras 3 renders its summary with `rich`: line length min(88, terminal columns - 4), column
boundaries at 45 % and 80 % of it, lines between rows, the parameter count right-aligned.
The widths below reproduce that rendering character for character.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["print_summary", "readable_memory_size"]

_HEADER = ("Layer (type)", "Output Shape", "Param #")
_POSITIONS = (0.45, 0.80, 1.0)


def readable_memory_size(size_bytes: float) -> str:
    """4799528 -> '4.58 MB' (powers of 1024, two decimals, as Keras)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size_bytes / 1024 < 1:
            return f"{size_bytes:.2f} {unit}"
        size_bytes /= 1024
    return f"{size_bytes:.2f} PB"


def _column_widths(line_length: int) -> list[int]:
    """Cell widths including one space of padding each side, borders excluded."""
    boundaries = [int(p * line_length) for p in _POSITIONS]
    requested = [b - a for a, b in zip([0, *boundaries[:-1]], boundaries)]
    # rich shrinks the requested widths to fit the table width and its four borders.
    first, second = requested[0] - 1, requested[1] - 2
    return [first, second, line_length - 4 - first - second]


def _wrap(text: str, width: int) -> list[str]:
    """Word-wrapped lines; a word longer than the cell is cut with an ellipsis."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def _row(cells: Sequence[str], widths: Sequence[int], border: str) -> list[str]:
    content = [w - 2 for w in widths]
    wrapped = [_wrap(c, w) for c, w in zip(cells, content)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = []
        for column, (lines, w) in enumerate(zip(wrapped, content)):
            text = lines[i] if i < len(lines) else ""
            parts.append(" " + (text.rjust(w) if column == 2 else text.ljust(w)) + " ")
        out.append(border + border.join(parts) + border)
    return out


def _rule(widths: Sequence[int], left: str, fill: str, middle: str, right: str) -> str:
    return left + middle.join(fill * w for w in widths) + right


def _weights_size(weights: Sequence[np.ndarray]) -> tuple[int, int]:
    return sum(w.size for w in weights), sum(w.nbytes for w in weights)


def print_summary(
    model: object,
    line_length: int | None = None,
    print_fn: Callable[[str], object] | None = None,
    explain: bool = False,
) -> None:
    """Prints the Keras table of `model` (name, layers, output shapes, parameter counts);
    explain=True appends each layer's padding, receptive field and multiply-accumulates."""
    line_length = line_length or min(88, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(line_length)
    if min(widths) < 4:
        raise ValueError(f"line_length={line_length} is too small to print the summary")

    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "━", "┳", "┓")]
    lines += _row(_HEADER, widths, "┃")
    lines.append(_rule(widths, "┡", "━", "╇", "┩"))
    for index, layer in enumerate(model.layers):
        if index:
            lines.append(_rule(widths, "├", "─", "┼", "┤"))
        shape = "?" if layer.output_shape is None else str(tuple(layer.output_shape))
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines += _row((f"{layer.name} ({type(layer).__name__})", shape, params), widths, "│")
    lines.append(_rule(widths, "└", "─", "┴", "┘"))

    trainable = [w for layer in model.layers for w in layer.trainable_weights]
    frozen = [w for layer in model.layers for w in layer.non_trainable_weights]
    (t_count, t_bytes), (f_count, f_bytes) = _weights_size(trainable), _weights_size(frozen)
    lines += [
        f" Total params: {t_count + f_count:,} ({readable_memory_size(t_bytes + f_bytes)})",
        f" Trainable params: {t_count:,} ({readable_memory_size(t_bytes)})",
        f" Non-trainable params: {f_count:,} ({readable_memory_size(f_bytes)})",
    ]
    if explain:
        from cnnkit.visualize.explain import explain_table  # imported late: it builds on layers

        lines += ["", explain_table(model)]
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        print_fn(text)
