"""`cnnkit visualize MODEL_FILE`: a saved model's filters, feature maps and top patches as PNGs.

The item to look at is an image file (--image) or a test image of a dataset (--index). The
top activations are taken over the first --samples test images of the dataset. Inputs are
prepared as `cnnkit train` prepares them: pixels scaled to [0, 1], a channel axis added.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

__all__ = ["add_visualize_command", "run_visualize"]

DATASETS = ("fashion_mnist", "mnist", "cifar10")


def _count(minimum: int):
    """An argparse type: an int of at least `minimum`."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value

    return parse


def add_visualize_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "visualize",
        help="draw a saved model's filters, feature maps and top activations",
        description=(
            "Write PNGs of what a saved model learned: the kernels of each convolution "
            "(filters_LAYER.png), the feature maps of one input (feature_maps.png) and, per "
            "convolution, the input patches that activate each feature map most over the "
            "dataset's test images (top_activations_LAYER.png, as in Zeiler and Fergus)."
        ),
    )
    parser.add_argument("model", metavar="MODEL_FILE", help="a file written by model.save")
    item = parser.add_mutually_exclusive_group(required=True)
    item.add_argument("--image", metavar="IMG", help="an image file of the model's input size")
    item.add_argument("--index", type=int, metavar="N", help="the N-th test image of --dataset")
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="fashion_mnist",
        help="dataset for --index and the top activations (default: %(default)s)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="visualize",
        metavar="OUT_DIR",
        help="folder for the PNGs (default: %(default)s)",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        metavar="LAYER",
        help="layer names or indices (default: every convolution and pooling "
        "layer for the feature maps, every convolution for the others)",
    )
    parser.add_argument(
        "--top-k", type=_count(1), default=9, help="patches per feature map (default: %(default)s)"
    )
    parser.add_argument(
        "--samples",
        type=_count(0),
        default=2000,
        help="test images searched for the top activations; 0 skips them (default: %(default)s)",
    )
    parser.add_argument(
        "--max-maps",
        type=_count(1),
        default=32,
        help="feature maps drawn per layer (default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="folder holding the dataset files (default: the usual search path)",
    )
    parser.set_defaults(handler=run_visualize)


def _as_model_input(images: np.ndarray, model: object) -> np.ndarray:
    """uint8 or [0, 1] images (N, H, W[, C]) in the model's input layout, float32 in [0, 1]."""
    from cnnkit.visualize._model import input_channels_first

    x = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images
    if x.ndim == 3:
        x = x[..., None]
    expected = tuple(model.input_shape[1:])
    first = input_channels_first(model)
    channels = expected[0] if first else expected[-1]
    if channels == 1 and x.shape[-1] in (3, 4):
        x = x[..., :3].mean(axis=-1, keepdims=True)  # a colour image for a grey model
    if first:
        x = np.moveaxis(x, -1, 1)
    if x.shape[1:] != expected:
        raise ValueError(
            f"the model takes inputs of shape {expected}, the image has shape {images.shape[1:]}"
        )
    return x.astype(np.float32)


def _layer_refs(texts: list[str] | None) -> list[str | int] | None:
    if texts is None:
        return None
    return [int(t) if t.lstrip("-").isdigit() else t for t in texts]


def run_visualize(args: argparse.Namespace) -> int:
    from cnnkit import datasets, image
    from cnnkit.layers import Conv2D
    from cnnkit.models import load_model
    from cnnkit.visualize import plot_feature_maps, plot_filters, plot_top_activations
    from cnnkit.visualize._model import layer_index, resolve_layers

    try:
        model = load_model(args.model)
        refs = _layer_refs(args.layers)
        chosen = [model.layers[i] for i in resolve_layers(model, refs)]
        convs = [layer for layer in chosen if isinstance(layer, Conv2D)]
        needs_data = args.index is not None or (args.samples > 0 and convs)
        test_images = None
        if needs_data:
            loader = getattr(datasets, args.dataset)
            _, (test_images, _) = loader.load_data(args.data)
        if args.index is not None:
            if not 0 <= args.index < len(test_images):
                raise ValueError(
                    f"--index {args.index} is outside the {len(test_images)} test images"
                )
            item = _as_model_input(test_images[args.index : args.index + 1], model)
        else:
            item = _as_model_input(image.load(args.image)[None], model)

        os.makedirs(args.output, exist_ok=True)
        written = []

        def save(figure: object, name: str) -> None:
            path = os.path.join(args.output, name)
            figure.savefig(path, dpi=100)
            written.append(path)

        for layer in convs:
            save(plot_filters(layer), f"filters_{layer.name}.png")
        save(plot_feature_maps(model, item, refs, max_maps=args.max_maps), "feature_maps.png")
        if args.samples > 0 and convs:
            data = _as_model_input(test_images[: args.samples], model)
            for layer in convs:
                figure = plot_top_activations(
                    model, layer_index(model, layer), data, k=args.top_k, max_maps=args.max_maps
                )
                save(figure, f"top_activations_{layer.name}.png")
    except (ValueError, OSError, ImportError) as error:  # OSError: a missing file
        print(f"cnnkit visualize: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"Wrote {path}")
    return 0
