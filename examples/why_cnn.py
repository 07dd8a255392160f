"""Why convolutional networks? The lecture's argument in numbers, on Fashion-MNIST.

Three models see the same pixels and train the same way (Adam, batch 128, same epochs):

- logistic regression: a softmax Dense layer on the 784 pixels;
- a dense network: two hidden ReLU layers on the pixels;
- the lecture's seed CNN: two 3x3 convolutions and max pooling before its Dense layers.

Prints one table (parameters, multiply-accumulates per image, test accuracy, training
time) and writes it as markdown. Epochs and training images are kept modest so that it
runs in minutes on a laptop; raise --epochs and --limit for the full picture.

    python examples/why_cnn.py --epochs 2 --limit 30000 --markdown docs/why_cnn.md
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import cnnkit
from cnnkit import layers
from cnnkit.datasets import fashion_mnist
from cnnkit.models import Sequential
from cnnkit.models.seeds import seed_a
from cnnkit.optimizers import Adam
from cnnkit.utils import set_random_seed, to_categorical
from cnnkit.visualize.explain import multiply_accumulates


def logistic_regression() -> Sequential:
    return Sequential(
        [layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")]
    )


def dense_network() -> Sequential:
    return Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


MODELS = {
    "Logistic regression (Dense softmax on pixels)": logistic_regression,
    "Dense network (784-512-256-10, ReLU)": dense_network,
    "Seed CNN (2 conv 3x3, max pool, Dense 128)": seed_a,
}


def run(name: str, build, data: tuple, epochs: int, seed: int) -> dict:
    """Trains one model from the same seed and returns its row of the table."""
    (x_train, y_train), (x_test, y_test) = data
    set_random_seed(seed)
    model = build()
    model.compile(
        loss="categorical_crossentropy",
        optimizer=Adam(),  # Keras defaults; converges in fewer epochs than the lecture's SGD
        metrics=["accuracy"],
    )
    print(f"== {name}")
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return {
        "Model": name,
        "Parameters": f"{model.count_params():,}",
        "MACs per image": f"{sum(multiply_accumulates(layer) for layer in model.layers):,}",
        "Test accuracy": f"{accuracy:.4f}",
        "Training time (s)": f"{seconds:.1f}",
    }


def markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    widths = [max(len(c), *(len(r[c]) for r in rows)) for c in columns]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |",
        "|"
        + "|".join("-" * (w + 1) + ":" if i else "-" * (w + 2) for i, w in enumerate(widths))
        + "|",
    ]
    for row in rows:
        cells = [
            row[c].ljust(w) if i == 0 else row[c].rjust(w)
            for i, (c, w) in enumerate(zip(columns, widths))
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per model (default: 2)")
    parser.add_argument(
        "--limit",
        type=int,
        default=30000,
        help="training images used, from the start (default: 30000; 0 = all)",
    )
    parser.add_argument(
        "--markdown",
        default=os.path.join("docs", "why_cnn.md"),
        help="where to write the table (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    limit = args.limit or len(x_train)
    x_train = (x_train[:limit, ..., None] / 255.0).astype(np.float32)
    x_test = (x_test[..., None] / 255.0).astype(np.float32)
    data = (x_train, to_categorical(y_train[:limit], 10)), (x_test, to_categorical(y_test, 10))

    rows = [run(name, build, data, args.epochs, args.seed) for name, build in MODELS.items()]
    table = markdown_table(rows)
    setting = (
        f"Fashion-MNIST, {len(x_train)} training images, {args.epochs} epoch(s) of Adam "
        f"(learning rate 0.001, batch 128), tested on {len(x_test)} images, "
        f"{cnnkit.get_num_threads()} thread(s)."
    )
    print()
    print(table)
    print(setting)
    os.makedirs(os.path.dirname(args.markdown) or ".", exist_ok=True)
    with open(args.markdown, "w", encoding="utf-8") as file:
        file.write("# Why convolutional networks: the numbers\n\n")
        file.write("Written by `python examples/why_cnn.py`. " + setting + "\n\n")
        file.write(table + "\n")
    print(f"Wrote {args.markdown}")


if __name__ == "__main__":
    main()
