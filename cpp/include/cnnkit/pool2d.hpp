// 2-D max and average pooling, forward and backward, on NHWC arrays.
//
// Geometry from make_pool2d_geometry (OC == C, no dilation). Padded cells never win a max and
// are not counted in an average. Max ties and the gradient go to the first element of the
// window in row-major order; a NaN in a window wins (the first NaN), as in PyTorch.
//   x, dx (N,H,W,C); y, dy (N,OH,OW,C). Backward functions overwrite dx.
#pragma once

#include "cnnkit/geometry.hpp"

namespace cnnkit {

template <typename T>
void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y);
template <typename T>
void max_pool2d_backward(const Conv2dGeometry& g, const T* x, const T* dy, T* dx);
template <typename T>
void avg_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y);
template <typename T>
void avg_pool2d_backward(const Conv2dGeometry& g, const T* dy, T* dx);

template <typename T>
void max_pool2d_forward_ref(const Conv2dGeometry& g, const T* x, T* y);
template <typename T>
void max_pool2d_backward_ref(const Conv2dGeometry& g, const T* x, const T* dy, T* dx);
template <typename T>
void avg_pool2d_forward_ref(const Conv2dGeometry& g, const T* x, T* y);
template <typename T>
void avg_pool2d_backward_ref(const Conv2dGeometry& g, const T* dy, T* dx);

}  // namespace cnnkit
