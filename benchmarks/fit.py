"""Training throughput of the lecture's first network (seed-a) on Fashion-MNIST.

    python benchmarks/fit.py                   # one full epoch, batch 128
    python benchmarks/fit.py --steps 50        # a quicker estimate over 50 batches

Prints images per second of model.fit (forward, backward, optimizer, dropout, metrics and the
Python around them), after a few warm-up batches.
"""

from __future__ import annotations

import argparse
import time

import cnnkit
from cnnkit.datasets import fashion_mnist
from cnnkit.models.seeds import seed_a
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None, help="batches (default: one epoch)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        cnnkit.set_num_threads(args.threads)

    (x, y), _ = fashion_mnist.load_data()
    x = (x[..., None] / 255.0).astype("float32")
    y = to_categorical(y, 10)
    if args.steps is not None:
        x, y = x[: args.steps * args.batch_size], y[: args.steps * args.batch_size]

    set_random_seed(0)
    model = seed_a()
    model.compile(
        loss="categorical_crossentropy",
        optimizer=SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
        metrics=["accuracy"],
    )
    model.fit(
        x[: 3 * args.batch_size], y[: 3 * args.batch_size], batch_size=args.batch_size, verbose=0
    )
    start = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    print(
        f"seed-a fit, batch {args.batch_size}, {cnnkit.get_num_threads()} threads: "
        f"{len(x)} images in {seconds:.1f} s = {len(x) / seconds:.0f} images/s"
    )


if __name__ == "__main__":
    main()
