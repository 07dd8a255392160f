"""`cnnkit filter`: apply a classical kernel to an image file and write the result.

    cnnkit filter photo.png --kernel edge -o edges.png --normalize abs
    cnnkit filter photo.png --kernel-file my_kernel.txt --boundary wrap -o out.png

A kernel file is either a ``.npy`` file holding a 2-D numeric array, or text: one kernel row
per line, numbers separated by whitespace, every row the same length; blank lines and lines
starting with ``#`` are ignored. For example a 3x3 horizontal-gradient kernel::

    # Sobel x
    -1 0 1
    -2 0 2
    -1 0 1

Colour images are filtered channel by channel; an alpha channel is kept as it is. Errors (a
missing or unreadable file, an unknown kernel, a malformed kernel file) print one line on
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

__all__ = ["add_filter_command", "read_kernel_file", "run_filter"]

_MODES = ("full", "same", "valid")
_BOUNDARIES = ("fill", "wrap", "symm")
_NORMALIZE = ("clip", "minmax", "abs")


def add_filter_command(subparsers: argparse._SubParsersAction) -> None:
    from cnnkit.image import kernels

    parser = subparsers.add_parser(
        "filter",
        help="filter an image with a classical kernel (blur, edge, emboss, ...)",
        description=(
            "Convolve an image (PNG or JPEG) with a named kernel or one read from a file, as "
            "cnnkit.image.convolve2d does, and write the result as PNG or JPEG. Colour images "
            "are filtered channel by channel; alpha is kept."
        ),
        epilog=(
            "Kernel files: .npy holding a 2-D array, or text with one row per line and "
            "whitespace-separated numbers ('#' starts a comment line)."
        ),
    )
    parser.add_argument("image", metavar="IMAGE", help="the image file to filter")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--kernel", metavar="NAME",
                        help=f"a named kernel: {', '.join(kernels.names())}")
    source.add_argument("--kernel-file", metavar="FILE",
                        help="a kernel in a .npy file or a text file (see below)")
    parser.add_argument("--mode", choices=_MODES, default="same",
                        help="output size as in scipy.signal.convolve2d (default: %(default)s)")
    parser.add_argument("--boundary", choices=_BOUNDARIES, default="symm",
                        help="how the image continues past its edges: fill with --fillvalue, "
                             "wrap around, or symm (mirror); the default, %(default)s, keeps "
                             "the border from showing up as an edge")
    parser.add_argument("--fillvalue", type=float, default=0.0,
                        help="value outside the image for --boundary fill (default: %(default)s)")
    parser.add_argument("--normalize", choices=_NORMALIZE, default="clip",
                        help="how results reach [0, 1] when saved: clip, stretch min..max, or "
                             "abs (|value| / max, for edge kernels) (default: %(default)s)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="where to write the result (.png, .jpg or .jpeg)")
    parser.set_defaults(handler=run_filter)


def read_kernel_file(path: str) -> np.ndarray:
    """The 2-D kernel in path (.npy or text, see the module docstring); ValueError if malformed."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"kernel file not found: {path!r}")
    if path.lower().endswith(".npy"):
        try:
            kernel = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            message = f"kernel file {path!r} is not a readable .npy file: {error}"
            raise ValueError(message) from error
        if kernel.ndim != 2 or kernel.size == 0 or kernel.dtype.kind not in "biuf":
            raise ValueError(
                f"kernel file {path!r} must hold a non-empty 2-D numeric array, got shape "
                f"{kernel.shape} and dtype {kernel.dtype}"
            )
        return kernel.astype(np.float64)
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(f"kernel file {path!r} is not text or .npy: {error}") from error
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            rows.append([float(token) for token in line.split()])
        except ValueError:
            raise ValueError(
                f"kernel file {path!r}, line {number}: expected numbers separated by spaces, "
                f"got {line.strip()!r}"
            ) from None
        if len(rows[-1]) != len(rows[0]):
            raise ValueError(
                f"kernel file {path!r}, line {number}: {len(rows[-1])} numbers, but the first "
                f"row has {len(rows[0])}"
            )
    if not rows:
        raise ValueError(f"kernel file {path!r} holds no numbers")
    return np.array(rows)


def _filtered(image: np.ndarray, kernel: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    from cnnkit.image import convolve2d

    def apply(x: np.ndarray) -> np.ndarray:
        return convolve2d(x, kernel, mode=args.mode, boundary=args.boundary,
                          fillvalue=args.fillvalue)

    if image.ndim == 3 and image.shape[2] in (2, 4):
        # Filter the colour (or grey) channels; alpha is a mask, not an intensity.
        colour = apply(image[:, :, :-1])
        alpha = image[:, :, -1:]
        if colour.shape[:2] != alpha.shape[:2]:  # 'full' / 'valid' change the size
            alpha = np.ones((*colour.shape[:2], 1), np.float32)
        return np.concatenate([colour, alpha], axis=2)
    return apply(image)


def run_filter(args: argparse.Namespace) -> int:
    from cnnkit import image
    from cnnkit.image import kernels

    try:
        kernel = kernels.get(args.kernel) if args.kernel else read_kernel_file(args.kernel_file)
        pixels = image.load(args.image)
        result = _filtered(pixels, kernel, args)
        image.save(args.output, result, normalize=args.normalize)
    except (OSError, ValueError) as error:
        print(f"cnnkit filter: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({result.shape[1]}x{result.shape[0]})")
    return 0
