"""Classical image filtering on the C++ core: the lecture's kernels before networks learn them.

    >>> from cnnkit import image
    >>> photo = image.load("photo.png")                    # float32 in [0, 1]
    >>> edges = image.convolve2d(photo, image.kernels.EDGE, boundary="symm")
    >>> image.save("edges.png", edges, normalize="abs")    # signed response shown as |value|

- :func:`convolve2d` / :func:`correlate2d` equal ``scipy.signal.convolve2d`` /
  ``correlate2d`` (modes "full", "same", "valid"; boundaries "fill", "wrap", "symm"); a (H, W, C)
  image is filtered channel by channel. float64 images give float64, every other image
  (float32, integer, bool) float32.
- :mod:`cnnkit.image.kernels`: BLUR, EDGE, EMBOSS, SHARPEN, SOBEL_X, SOBEL_Y, IDENTITY,
  ``gaussian(size, sigma)``, ``box(size)`` and ``get(name)``.
- :func:`load` / :func:`save`: PNG and JPEG files as float32 arrays in [0, 1].

A classical kernel can seed a network: a single-channel Conv2D accepts a (3, 3) array as its
kernel initializer, so ``layers.Conv2D(1, 3, kernel_initializer=image.kernels.EDGE)`` starts
as the edge detector, and on a (N, H, W, 1) batch with padding="same" it computes
``correlate2d(x[n, :, :, 0], EDGE)`` (zero fill), the cross-correlation every CNN layer uses.
"""

from cnnkit.image import kernels
from cnnkit.image.filtering import convolve2d, correlate2d
from cnnkit.image.io import load, save

__all__ = ["convolve2d", "correlate2d", "kernels", "load", "save"]
