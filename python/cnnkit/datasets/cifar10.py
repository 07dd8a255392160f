"""CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, in 10 classes.

The files are the python version's batches (folder ``cifar-10-batches-py``:
data_batch_1 .. data_batch_5 and test_batch), read with a data-only unpickler (see
_safe_pickle) so a file can never run code. Labels: 0 airplane, 1 automobile, 2 bird,
3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit.datasets import _fetch, _safe_pickle

NAME = "cifar-10-batches-py"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# sha256 of the dataset author's archive (the sum Keras checks too).
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")
_PIXELS = 3 * 32 * 32


def _field(batch: dict[Any, Any], key: str) -> Any:
    """A batch entry under its bytes key (Python 2 pickles) or its str key."""
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def load_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) uint8 of one batch file."""
    path = Path(path)
    batch = _safe_pickle.load(path)
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    data, labels = _field(batch, "data"), _field(batch, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != _PIXELS:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array (N, {_PIXELS}), got {got}")
    if not isinstance(labels, (list, np.ndarray)):
        raise ValueError(f"{path}: 'labels' must be a list of ints, got {type(labels).__name__}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(data):
        raise ValueError(f"{path}: {len(data)} images need as many integer labels, got "
                         f"{labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: labels must be in 0..9, got {labels.min()}..{labels.max()}")
    # Rows hold the red, green and blue planes in turn; Keras returns channels last.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _download(folder: Path) -> None:
    """Fetches the archive, then copies out only the batch files (no path in it is trusted)."""
    archive = _fetch.download_file(URL, folder / "cifar-10-python.tar.gz", SHA256)
    wanted = {f"cifar-10-batches-py/{name}": name for name in (*TRAIN_FILES, TEST_FILE)}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name in wanted and member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    (folder / wanted[member.name]).write_bytes(source.read())
    finally:
        archive.unlink(missing_ok=True)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (N, 32, 32, 3), labels (N, 1).

    ``path`` is a folder holding the batch files; without it they are looked for in
    $CNNKIT_DATA/cifar-10-batches-py/, ~/.cnnkit/datasets/cifar-10-batches-py/ and
    /usr/share/datasets/cifar-10-batches-py/, then downloaded (checked by sha256) into the
    second.
    """
    required = [(name,) for name in (*TRAIN_FILES, TEST_FILE)]
    found = _fetch.locate(NAME, required, _download, path)
    train = [load_batch(file) for file in found[: len(TRAIN_FILES)]]
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train]).reshape(-1, 1)
    x_test, y_test = load_batch(found[-1])
    return (x_train, y_train), (x_test, y_test.reshape(-1, 1))
