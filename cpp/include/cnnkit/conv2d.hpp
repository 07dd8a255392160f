// 2-D convolution (cross-correlation, as in every CNN library), forward and backward.
//
//   y[n,oh,ow,oc] = b[oc] + sum_{kh,kw,c} x[n, oh*SH - pad_top + kh*DH, ow*SW - pad_left + kw*DW, c]
//                                        * w[kh,kw,c,oc]          (out-of-image x reads as 0)
//   dx[n,ih,iw,c] = sum over the (oh,ow,kh,kw) that read x[n,ih,iw,c] of dy[n,oh,ow,oc] * w[kh,kw,c,oc]
//   dw[kh,kw,c,oc] = sum_{n,oh,ow} x[n, ih(oh,kh), iw(ow,kw), c] * dy[n,oh,ow,oc]
//   db[oc]         = sum_{n,oh,ow} dy[n,oh,ow,oc]
//
// Shapes: x (N,H,W,C), w (KH,KW,C,OC), b (OC), y and dy (N,OH,OW,OC).
// Every function overwrites its outputs (nothing accumulates into them). b, db may be null.
// The plain functions run the fastest kernel this CPU supports; *_ref are direct loops with
// double accumulation, the oracle for the tests.
#pragma once

#include "cnnkit/geometry.hpp"

namespace cnnkit {

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, bool relu, T* y);
template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_kernel(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* db);

template <typename T>
void conv2d_forward_ref(const Conv2dGeometry& g, const T* x, const T* w, const T* b, bool relu,
                        T* y);
template <typename T>
void conv2d_backward_input_ref(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_kernel_ref(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* db);

}  // namespace cnnkit
