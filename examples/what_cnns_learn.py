"""What are CNNs learning? The lecture's seed network on Fashion-MNIST, looked at from inside.

Loads a model written by `cnnkit train` (or trains the seed network for a couple of epochs
when no model file is given), then writes, as PNGs:

- filters_conv1.png, filters_conv2.png: the learned 3x3 kernels;
- feature_maps.png: what both convolutions (and the pooling) make of one test image;
- top_activations_conv1.png, top_activations_conv2.png: for each feature map, the 9 test
  patches that excite it most, cut to the unit's receptive field (Zeiler and Fergus).

    python examples/what_cnns_learn.py                      # train, then draw into docs/images
    python examples/what_cnns_learn.py runs/seed-a-fashion-mnist.cnnkit -o out

Needs matplotlib (pip install cnnkit[viz]).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from cnnkit import layers
from cnnkit.datasets import fashion_mnist
from cnnkit.models import load_model
from cnnkit.models.seeds import seed_a
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical
from cnnkit.visualize import (
    plot_feature_maps,
    plot_filters,
    plot_top_activations,
    receptive_field,
)


def train_seed_network(x_train: np.ndarray, y_train: np.ndarray, epochs: int, seed: int):
    """The lecture's first Keras example, compiled as `cnnkit train` compiles it."""
    set_random_seed(seed)
    model = seed_a(input_shape=(28, 28, 1), num_classes=10)
    model.compile(
        loss="categorical_crossentropy",
        optimizer=SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, to_categorical(y_train, 10), batch_size=128, epochs=epochs, verbose=2)
    print(
        f"Trained {epochs} epoch(s) on {len(x_train)} images in {time.perf_counter() - start:.0f} s"
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="a model saved by `cnnkit train` (optional)")
    parser.add_argument(
        "-o",
        "--output",
        default=os.path.join("docs", "images"),
        help="folder for the PNGs (default: %(default)s)",
    )
    parser.add_argument("--epochs", type=int, default=2, help="training epochs without a model")
    parser.add_argument(
        "--limit", type=int, default=None, help="train on the first N training images only"
    )
    parser.add_argument("--index", type=int, default=0, help="test image for the feature maps")
    parser.add_argument(
        "--samples", type=int, default=10000, help="test images searched for the top activations"
    )
    parser.add_argument(
        "--save-model", metavar="PATH", help="also save the model trained here (to redraw it later)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = (x_train[: args.limit, ..., None] / 255.0).astype(np.float32)
    y_train = y_train[: args.limit]
    x_test = (x_test[..., None] / 255.0).astype(np.float32)
    if args.model:
        model = load_model(args.model)
    else:
        model = train_seed_network(x_train, y_train, args.epochs, args.seed)
        if args.save_model:
            model.save(args.save_model)
    predictions = model.predict(x_test, batch_size=512, verbose=0).argmax(axis=1)
    print(f"Test accuracy: {np.mean(predictions == y_test):.4f}")
    model.summary(explain=True)

    os.makedirs(args.output, exist_ok=True)
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    item = x_test[args.index]
    label = fashion_mnist.CLASS_NAMES[y_test[args.index]]
    search = x_test[: args.samples]

    def save(figure, name: str) -> None:
        path = os.path.join(args.output, name)
        figure.savefig(path, dpi=100)
        print(f"Wrote {path}")

    for number, conv in enumerate(convs, start=1):
        save(plot_filters(conv), f"filters_conv{number}.png")
    figure = plot_feature_maps(model, item, max_maps=32)
    figure.suptitle(f"Test image {args.index} ({label}) through the network")
    save(figure, "feature_maps.png")
    for number, conv in enumerate(convs, start=1):
        field = receptive_field(model, conv)
        print(
            f"conv{number} ({conv.name}): each unit sees {field['size'][0]}x{field['size'][1]} "
            "input pixels"
        )
        save(
            plot_top_activations(model, conv, search, k=9, max_maps=32),
            f"top_activations_conv{number}.png",
        )


if __name__ == "__main__":
    main()
