"""Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28x28 grayscale.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot.
"""

from __future__ import annotations

import os

import numpy as np

from cnnkit.datasets import _idx

NAME = "fashion-mnist"
BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# sha256 of the dataset authors' gzip files (as published with TensorFlow Datasets'
# checksums); the plain-http download is trusted only through these sums.
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (N, 28, 28), uint8 labels (N,).

    ``path`` is a folder holding the four IDX files (".gz" or plain); without it the
    files are looked for in $CNNKIT_DATA/fashion-mnist/, ~/.cnnkit/datasets/fashion-mnist/
    and /usr/share/datasets/fashion-mnist/ (Debian's copy), then downloaded (checked by
    sha256) into the second.
    """
    return _idx.load_dataset(NAME, BASE_URL, SHA256, path)
