"""cnnkit: convolutional networks for CPUs, with a Keras-compatible API."""

from cnnkit import callbacks, datasets, losses, metrics, ops, optimizers, utils
from cnnkit import activations, initializers, layers, models, regularizers
from cnnkit import image, signal
from cnnkit._core import get_num_threads, get_winograd, set_num_threads, set_winograd

__all__ = [
    "activations",
    "callbacks",
    "datasets",
    "get_num_threads",
    "get_winograd",
    "image",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "set_num_threads",
    "set_winograd",
    "signal",
    "utils",
]
__version__ = "0.1.0"
