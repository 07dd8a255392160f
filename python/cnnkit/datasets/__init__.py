"""Standard datasets with Keras's ``load_data()`` shapes and dtypes."""

from cnnkit.datasets import cifar10, fashion_mnist, mnist

__all__ = ["cifar10", "fashion_mnist", "mnist"]
