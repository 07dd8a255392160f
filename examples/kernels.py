"""The lecture's hand-made kernels on a real photograph: blur, edge detection and emboss.

Before networks learned their kernels, image processing designed them by hand. This script
convolves a photograph with the lecture's three kernels (cnnkit.image.kernels BLUR, EDGE and
EMBOSS, true convolution with mirrored borders) and writes one PNG: the original and the three
results side by side, each titled with its kernel, and below them a magnified crop where the
effect of a 3x3 kernel is visible pixel by pixel.

The photograph is scikit-image's "camera" test image (skimage.data.camera(), 512x512
grayscale), by Lav Varshney, released under CC0 1.0 (no copyright restrictions) according to
scikit-image's data documentation; --photo astronaut uses skimage.data.astronaut(), a NASA
photograph of Eileen Collins in the public domain. Install the extras with
``pip install -e .[examples]`` (scikit-image, matplotlib).

    python examples/kernels.py -o kernels.png
"""

from __future__ import annotations

import argparse

import numpy as np

from cnnkit import image
from cnnkit.image import kernels

PHOTOS = {
    "camera": "skimage.data.camera(): Lav Varshney, CC0 1.0",
    "astronaut": "skimage.data.astronaut(): NASA, public domain",
}
CROPS = {  # (top, left) of the magnified 96x96 crop: a face in each photograph
    "camera": (80, 160),
    "astronaut": (60, 170),
}
CROP = 96


def load_photo(name: str) -> np.ndarray:
    """The named scikit-image photograph as float32 in [0, 1]."""
    from skimage import data

    pixels = getattr(data, name)()
    return pixels.astype(np.float32) / 255


def kernel_label(kernel: np.ndarray) -> str:
    rows = ["  ".join(f"{v:g}" for v in row) for row in kernel]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--photo",
        choices=sorted(PHOTOS),
        default="camera",
        help="which scikit-image photograph to filter (default: %(default)s)",
    )
    parser.add_argument("-o", "--output", default="kernels.png", help="the PNG to write")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photo = load_photo(args.photo)
    blurred = image.convolve2d(photo, kernels.BLUR, boundary="symm")
    edges = image.convolve2d(photo, kernels.EDGE, boundary="symm")
    embossed = image.convolve2d(photo, kernels.EMBOSS, boundary="symm")

    # EDGE sums to 0 and responds with either sign: show |response|. BLUR and EMBOSS sum to 1
    # and keep the photograph's range.
    panels = [
        ("original", None, photo),
        ("blur", kernels.BLUR * 16, blurred),
        ("edge detection", kernels.EDGE, np.abs(edges)),
        ("emboss", kernels.EMBOSS, embossed),
    ]
    figure, axes = plt.subplots(2, 4, figsize=(16, 9.6), constrained_layout=True)
    top, left = CROPS[args.photo]
    for column, (title, kernel, pixels) in enumerate(panels):
        shown = np.clip(pixels, 0, 1)
        crop = shown[top : top + CROP, left : left + CROP]
        for axis, part in zip(axes[:, column], (shown, crop)):
            axis.imshow(
                part,
                cmap="gray" if part.ndim == 2 else None,
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            axis.set_axis_off()
        if kernel is None:
            label = f"{title}\n\n\n"
        elif title == "blur":
            label = f"{title} (x 1/16)\n{kernel_label(kernel)}"
        else:
            label = f"{title}\n{kernel_label(kernel)}"
        axes[0, column].set_title(label, fontsize=11, family="monospace")
    axes[1, 0].set_title(f"{CROP}x{CROP} crop, magnified", fontsize=11, family="monospace")
    figure.suptitle(
        f"The lecture's kernels with cnnkit.image.convolve2d\nphotograph: {PHOTOS[args.photo]}",
        fontsize=13,
    )
    figure.savefig(args.output, dpi=100)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
