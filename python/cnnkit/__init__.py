"""cnnkit: convolutional networks for CPUs, with a Keras-compatible API."""

from cnnkit import ops
from cnnkit._core import get_num_threads, set_num_threads

__all__ = ["get_num_threads", "ops", "set_num_threads"]
__version__ = "0.1.0"
