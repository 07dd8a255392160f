// Winograd convolution for 3x3 stride-1 and stride-2 layers, and when the plain conv2d functions
// use it.
//
// F(m x m, 3 x 3) computes an m x m output tile with (m+2)^2 multiplies per channel pair instead
// of 9 m^2 (and F(3 x 3, m x m) the kernel gradient from m x m tiles of dy), at the price of
// rounding in the transforms: relative error (max |y - exact| over max |exact|) stays below 1e-4
// in float32 for the layer sizes CNNs use. The plain conv2d functions use it only for float32,
// undilated 3x3 stride-1 layers whose channel counts make it faster than the direct kernels
// (winograd_tile); float64 is always computed directly. It is on by default; CNNKIT_WINOGRAD=0 in the environment or
// set_winograd_enabled(false) turns it off, making every result the direct kernels'.
#pragma once

#include "cnnkit/geometry.hpp"

namespace cnnkit {

bool winograd_enabled();
void set_winograd_enabled(bool enabled);

enum class ConvPass { kForward, kBackwardInput, kBackwardKernel };

// The tile size m (2 or 4) the plain function of `pass` uses for this convolution and dtype, or 0
// for the direct kernels.
template <typename T>
int winograd_tile(const Conv2dGeometry& g, ConvPass pass);

// Whether the plain function of `pass` runs this 3x3 stride-2 convolution by phases. Forward: each 4x4 output tile reads a 9x9 patch whose even/even, even/odd,
// odd/even and odd/odd pixels meet the kernel's 2x2, 2x1, 1x2 and 1x1 corners, correlated by
// F(4x4, 2x2), F(4, 2), F(4, 2) and directly: 81 multiplies per channel pair instead of 144,
// within the same accuracy bound. Backward-input: each phase of dx is such a stride-1
// correlation of dy with a flipped corner, 4x4 tiles of the four phases from one 5x5 dy patch.
// Backward-kernel: the forward split transposed, per 4x4 dy tile and its 9x9 patch.
// Float32, undilated, with 16 input channels or more (output channels for backward-input).
template <typename T>
bool winograd_stride2(const Conv2dGeometry& g, ConvPass pass);

// Forced phase-split passes for a 3x3 stride-2 undilated geometry.
template <typename T>
void conv2d_forward_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* w, const T* b,
                                     bool relu, T* y);
template <typename T>
void conv2d_backward_input_winograd_stride2(const Conv2dGeometry& g, const T* dy, const T* w,
                                            T* dx);
template <typename T>
void conv2d_backward_kernel_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* dy,
                                             T* dw, T* db);

// Forced Winograd (m = 2 or 4) for a 3x3 stride-1 undilated geometry; contracts as in conv2d.hpp.
template <typename T>
void conv2d_forward_winograd(const Conv2dGeometry& g, int m, const T* x, const T* w, const T* b,
                             bool relu, T* y);
template <typename T>
void conv2d_backward_input_winograd(const Conv2dGeometry& g, int m, const T* dy, const T* w,
                                    T* dx);
template <typename T>
void conv2d_backward_kernel_winograd(const Conv2dGeometry& g, int m, const T* x, const T* dy,
                                     T* dw, T* db);

}  // namespace cnnkit
