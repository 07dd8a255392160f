"""Training throughput of the lecture's first network (seed-a) on Fashion-MNIST, next to PyTorch.

    python benchmarks/fit.py                   # one full epoch each, batch 128, 2 threads
    python benchmarks/fit.py --steps 50        # a quicker estimate over 50 batches

Both libraries train the same architecture (Conv2D 32 3x3 relu, Conv2D 64 3x3 relu, MaxPool 2,
Dropout 0.25, Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax) with the same optimizer
(SGD, lr 0.01, momentum 0.9, Nesterov) and batch size, on the same threads, in the same run,
after a few warm-up batches. cnnkit's time is model.fit (forward, backward, optimizer, dropout,
metrics and the Python around them); PyTorch's is the equivalent loop over shuffled batches.
PyTorch is optional: `pip install torch==2.13.0` (the CPU build).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cnnkit
from cnnkit.datasets import fashion_mnist
from cnnkit.models.seeds import seed_a
from cnnkit.optimizers import SGD
from cnnkit.utils import set_random_seed, to_categorical


def cnnkit_images_per_second(x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    set_random_seed(0)
    model = seed_a()
    model.compile(
        loss="categorical_crossentropy",
        optimizer=SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
        metrics=["accuracy"],
    )
    warm = 3 * batch_size
    model.fit(x[:warm], to_categorical(y[:warm], 10), batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.fit(x, to_categorical(y, 10), batch_size=batch_size, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - start)


def torch_images_per_second(x: np.ndarray, y: np.ndarray, batch_size: int, threads: int) -> float:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )  # softmax is folded into cross_entropy, as cnnkit fuses it with its loss
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(y.astype(np.int64))

    def epoch(count: int) -> None:
        order = torch.randperm(count)
        for begin in range(0, count, batch_size):
            batch = order[begin : begin + batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()

    model.train()
    epoch(3 * batch_size)
    start = time.perf_counter()
    epoch(len(x))
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None, help="batches (default: one epoch)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cnnkit.set_num_threads(args.threads)

    (x, y), _ = fashion_mnist.load_data()
    x = (x[..., None] / 255.0).astype("float32")
    if args.steps is not None:
        x, y = x[: args.steps * args.batch_size], y[: args.steps * args.batch_size]

    ours = cnnkit_images_per_second(x, y, args.batch_size)
    print(f"seed-a, {len(x)} images, batch {args.batch_size}, {args.threads} threads")
    print(f"  cnnkit  {ours:8.0f} images/s")
    try:
        theirs = torch_images_per_second(x, y, args.batch_size, args.threads)
    except ImportError:
        print("  PyTorch not installed: pip install torch==2.13.0")
        return
    print(f"  PyTorch {theirs:8.0f} images/s")
    print(f"  cnnkit / PyTorch = {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
