// Classical 2-D filtering: cross-correlation of single-channel planes with a small kernel, the
// image extended past its edges by a boundary rule (what scipy.signal.correlate2d computes).
//
//   x (P, H, W) planes, w (KH, KW), y (P, OH, OW); all C-contiguous.
//   y[p, i, j] = sum_{a < KH, b < KW} w[a, b] * ext(x[p], i - pad_top + a, j - pad_left + b)
//
// ext reads inside the plane as is and outside it by `boundary`:
//   kFill  the constant `fill`;
//   kWrap  periodically (index mod H);
//   kSymm  mirrored with the edge pixel repeated (..., 1, 0 | 0, 1, ..., H-1 | H-1, H-2, ...),
//          repeating the mirror as often as needed when the kernel is larger than the plane.
// True convolution is this with the kernel flipped on both axes; the callers (cnnkit.image,
// cnnkit.signal) choose OH, OW and the pads that give each mode's alignment.
#pragma once

#include <string>

#include "cnnkit/common.hpp"

namespace cnnkit {

enum class Boundary { kFill, kWrap, kSymm };

Boundary parse_boundary(const std::string& boundary);  // "fill" | "wrap" | "symm"

// A plain struct, like Conv2dGeometry, so kernels of every ISA can read it.
struct Filter2dGeometry {
  Index P, H, W;          // planes and their size
  Index KH, KW;           // kernel
  Index OH, OW;           // output
  Index pad_top, pad_left;  // rows / columns of extension before the first output's window
  Boundary boundary;
};

// Validates the sizes (positive, pads >= 0, element counts fit in Index) and throws
// std::invalid_argument naming the offending values.
Filter2dGeometry make_filter2d_geometry(Index P, Index H, Index W, Index KH, Index KW, Index OH,
                                        Index OW, Index pad_top, Index pad_left,
                                        Boundary boundary);

// Production path: the vectorised kernel of the active ISA, in parallel over bands of output
// rows; it reads the plane in place and extends only the edges it needs (cpp/src/filter2d.cpp).
template <typename T>
void filter2d(const Filter2dGeometry& g, const T* x, const T* w, T fill, T* y);

// Direct loops over the definition above: the oracle for tests.
template <typename T>
void filter2d_ref(const Filter2dGeometry& g, const T* x, const T* w, T fill, T* y);

}  // namespace cnnkit
