"""Sample problems for the op tests: small odd shapes in the spirit of PyTorch's OpInfo samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConvSample:
    x_shape: tuple[int, int, int, int]  # NHWC
    kernel_shape: tuple[int, int, int, int]
    strides: tuple[int, int] = (1, 1)
    padding: str = "valid"
    dilation: tuple[int, int] = (1, 1)

    def arrays(self, rng: np.random.Generator, dtype=np.float64):
        x = rng.standard_normal(self.x_shape).astype(dtype)
        kernel = rng.standard_normal(self.kernel_shape).astype(dtype)
        bias = rng.standard_normal(self.kernel_shape[3]).astype(dtype)
        return x, kernel, bias

    def kwargs(self) -> dict:
        return dict(strides=self.strides, padding=self.padding, dilation_rate=self.dilation)


CONV_SAMPLES = [
    ConvSample((2, 7, 5, 3), (3, 2, 3, 4)),
    ConvSample((1, 5, 5, 1), (3, 3, 1, 1), padding="same"),
    ConvSample((3, 9, 8, 2), (3, 3, 2, 5), strides=(3, 2), padding="same"),
    ConvSample((1, 10, 7, 4), (3, 2, 4, 3), dilation=(2, 3), padding="same"),
    ConvSample((2, 6, 6, 5), (1, 1, 5, 7), strides=(2, 2)),
    ConvSample((1, 4, 6, 2), (4, 6, 2, 3)),  # kernel == input
    ConvSample((2, 8, 9, 3), (2, 2, 3, 2), strides=(4, 5)),  # strides larger than the kernel
    ConvSample((1, 12, 11, 17), (3, 3, 17, 33), strides=(2, 1), dilation=(2, 2), padding="same"),
    ConvSample((5, 3, 3, 1), (3, 3, 1, 8), padding="same"),
]


@dataclass(frozen=True)
class PoolSample:
    x_shape: tuple[int, int, int, int]
    pool: tuple[int, int] = (2, 2)
    strides: tuple[int, int] | None = None
    padding: str = "valid"

    @property
    def steps(self) -> tuple[int, int]:
        return self.pool if self.strides is None else self.strides

    def kwargs(self) -> dict:
        return dict(pool_size=self.pool, strides=self.strides, padding=self.padding)


POOL_SAMPLES = [
    PoolSample((2, 4, 4, 3)),
    PoolSample((1, 5, 7, 2), padding="same"),
    PoolSample((3, 7, 6, 5), pool=(3, 3), strides=(1, 1), padding="same"),
    PoolSample((1, 9, 8, 65), pool=(3, 2), strides=(2, 3)),
    PoolSample((2, 5, 5, 1), pool=(5, 5)),
    PoolSample((1, 8, 8, 4), pool=(2, 2), strides=(3, 3), padding="same"),
]


def distinct_values(shape, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of well-separated values: no max-pool ties, even after +-1e-6."""
    values = rng.permutation(np.prod(shape)).astype(np.float64) * 0.01
    return values.reshape(shape)
