"""Reading the IDX files of MNIST and Fashion-MNIST (gzip-compressed or plain).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the data in row-major order. Both
datasets use type 0x08 (unsigned byte): 0x00000801 for labels, 0x00000803 for images.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from cnnkit.datasets import _fetch

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path: Path) -> bytearray:
    """The file's bytes, gunzipped when they start with the gzip magic number."""
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return bytearray(raw)
    try:
        return bytearray(gzip.decompress(raw))
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error


def read_idx(path: str | os.PathLike[str], ndim: int) -> np.ndarray:
    """The uint8 array stored in an IDX file of ``ndim`` dimensions (a writeable array)."""
    path = Path(path)
    raw = _read_bytes(path)
    expected_magic = (_UBYTE << 8) | ndim
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file of {len(raw)} bytes (no header)")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension(s))"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        problem = "truncated" if actual < expected else "too long"
        raise ValueError(
            f"{path}: {problem}: its header gives shape {shape} = {expected} bytes of data, "
            f"but the file holds {actual}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_split(images_path: Path, labels_path: Path,
               image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) and labels (N,) of one split, checked against each other."""
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if images.shape[1:] != image_shape:
        raise ValueError(
            f"{images_path}: images have shape {images.shape[1:]}, expected {image_shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
            "labels"
        )
    return images, labels


def load_dataset(name: str, base_url: str, sha256: dict[str, str],
                 path: str | os.PathLike[str] | None) -> tuple[tuple[np.ndarray, np.ndarray],
                                                               tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)) of an MNIST-format dataset.

    Each file may be found as "<file>.gz" or plain "<file>"; downloads fetch the ".gz"
    files from ``base_url`` and check them against ``sha256`` (keyed by ".gz" file name).
    """
    stems = [*SPLITS["train"], *SPLITS["test"]]
    required = [(f"{stem}.gz", stem) for stem in stems]

    def download(folder: Path) -> None:
        for stem in stems:
            file_name = f"{stem}.gz"
            _fetch.download_file(base_url + file_name, folder / file_name, sha256[file_name])

    found = _fetch.locate(name, required, download, path)
    train = load_split(found[0], found[1], (28, 28))
    test = load_split(found[2], found[3], (28, 28))
    return train, test
