"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale."""

from __future__ import annotations

import os

import numpy as np

from cnnkit.datasets import _idx

NAME = "mnist"
BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
# sha256 of the original gzip files (as published with TensorFlow Datasets' checksums).
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (N, 28, 28), uint8 labels (N,).

    ``path`` is a folder holding the four IDX files (".gz" or plain); without it the
    files are looked for in $CNNKIT_DATA/mnist/, ~/.cnnkit/datasets/mnist/ and
    /usr/share/datasets/mnist/, then downloaded (checked by sha256) into the second.
    """
    return _idx.load_dataset(NAME, BASE_URL, SHA256, path)
