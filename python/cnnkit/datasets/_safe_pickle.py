"""Loading the CIFAR python batches without running code from the file.

The batches are pickled dicts of strings, lists of ints and one numpy uint8 array.
``pickle.load`` would call whatever global a file names; this unpickler resolves only the
handful of globals such data needs, each wrapped so it can build nothing else:
- numpy's ``_reconstruct`` (under ``numpy.core`` or ``numpy._core``), ``numpy.ndarray`` (only
  as its argument) and ``numpy.dtype``: only empty plain ndarrays of numeric dtypes, filled
  by the file's ``__setstate__`` data (no object arrays, so no arbitrary objects inside);
- ``_codecs.encode`` with "latin1": how Python 3 pickles bytes at protocol 2.
Any other global raises ValueError naming it.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np


class _NdarrayMarker:
    """Stands for numpy.ndarray, which a file only names as _reconstruct's first argument;
    handing out the real class would let a file allocate arrays of any size by calling it."""


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> np.ndarray:
    """numpy's pickle constructor, limited to an empty plain ndarray (filled by setstate)."""
    if subtype is not _NdarrayMarker:
        raise pickle.UnpicklingError(f"only numpy.ndarray may be rebuilt, got {subtype!r}")
    if not isinstance(shape, tuple) or any(not isinstance(n, int) for n in shape) \
            or int(np.prod(shape)) != 0:
        raise pickle.UnpicklingError(f"unexpected placeholder shape {shape!r} for an ndarray")
    return np.empty(shape, dtype=np.int8)


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """numpy.dtype for plain numeric types only (never object dtypes)."""
    if isinstance(spec, bytes):
        spec = spec.decode("ascii")
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"unexpected dtype spec {spec!r}")
    dtype = np.dtype(spec, bool(align), bool(copy))
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise pickle.UnpicklingError(f"dtype {dtype} is not allowed (numbers only)")
    return dtype


def _latin1_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode({type(text).__name__}, {encoding!r}) "
                                     "is not allowed")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NdarrayMarker,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _DataOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return allowed


def load(path: Path) -> Any:
    """The object pickled in ``path`` (Python 2 strings come back as bytes, as in Keras).

    A forbidden global, a truncated or otherwise malformed file raises ValueError naming
    the file.
    """
    data = path.read_bytes()
    try:
        return _DataOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OverflowError, MemoryError) as error:
        raise ValueError(f"{path}: not a valid CIFAR python batch ({error})") from error
