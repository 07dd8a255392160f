"""1-D convolution and correlation of signals, equal to numpy.convolve and numpy.correlate.

The lecture's definition, (f * g)(t) = sum over tau of f(tau) g(t - tau), slides the flipped
kernel g across the signal f; correlation slides g unflipped, which is what a Conv1D layer
computes. Both run on the C++ core as a one-row 2-D correlation.

dtype: float64 if either input is float64, else float32 (integer and bool inputs are converted
to float32); numpy would keep integers as integers.
"""

from __future__ import annotations

import numpy as np

from cnnkit import _filtering

__all__ = ["convolve", "correlate"]


def _signals(f: object, g: object) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for value, name in ((f, "f"), (g, "g")):
        array = _filtering.real_array(value, name)
        if array.ndim > 1:
            raise ValueError(f"{name} must be a 1-D signal, got shape {array.shape}")
        arrays.append(array.reshape(-1))
    f, g = arrays
    dtype = np.float64 if np.float64 in (f.dtype, g.dtype) else np.float32
    return f.astype(dtype, copy=False), g.astype(dtype, copy=False)


def _correlate_longer_first(a: np.ndarray, v: np.ndarray, mode: str) -> np.ndarray:
    """numpy's correlation of a with v for len(a) >= len(v): out[k] = sum_j a[k - pad + j] v[j].

    'full' starts with v's last sample over a's first (pad len(v) - 1), 'same' keeps len(a)
    samples centred with pad len(v) // 2, 'valid' keeps the len(a) - len(v) + 1 full overlaps.
    """
    n, k = len(a), len(v)
    length, pad = {"full": (n + k - 1, k - 1), "same": (n, k // 2), "valid": (n - k + 1, 0)}[mode]
    y = _filtering.correlate_planes(a[None, None, :], v[None, :], (1, length), (0, pad))
    return y[0, 0]


def convolve(f: object, g: object, mode: str = "full") -> np.ndarray:
    """True 1-D convolution of f with g (g flipped), equal to ``numpy.convolve(f, g, mode)``.

    mode: "full" (len(f) + len(g) - 1 samples), "same" (max(len(f), len(g)) samples, centred
    as numpy centres them) or "valid" (where one signal fully overlaps the other:
    |len(f) - len(g)| + 1 samples). Convolution is symmetric, so when g is the longer signal
    the roles swap, as in numpy.
    """
    f, g = _signals(f, g)
    mode = _filtering.choice(mode, _filtering.MODES, "mode")
    if len(g) > len(f):
        f, g = g, f
    return _correlate_longer_first(f, g[::-1], mode)


def correlate(f: object, g: object, mode: str = "full") -> np.ndarray:
    """1-D cross-correlation, out[k] = sum_n f[n + k - pad] g[n], equal to ``numpy.correlate``.

    The default mode is "full" (numpy's is "valid"); with an explicit mode the values equal
    numpy's, including its rule when g is longer than f: the result is then the reversed
    correlation of g with f.
    """
    f, g = _signals(f, g)
    mode = _filtering.choice(mode, _filtering.MODES, "mode")
    if len(g) > len(f):
        return np.ascontiguousarray(_correlate_longer_first(g, f, mode)[::-1])
    return _correlate_longer_first(f, g, mode)
