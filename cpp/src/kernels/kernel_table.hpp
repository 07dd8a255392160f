// The set of kernels every ISA build provides; dispatch.cpp picks one table at run time.
#pragma once

#include "cnnkit/geometry.hpp"

namespace cnnkit {

template <typename T>
struct KernelSet {
  void (*conv2d_forward)(const Conv2dGeometry&, const T* x, const T* w, const T* b, bool relu,
                         T* y);
  void (*conv2d_backward_input)(const Conv2dGeometry&, const T* dy, const T* w, T* dx);
  void (*conv2d_backward_kernel)(const Conv2dGeometry&, const T* x, const T* dy, T* dw, T* db);
  // The same for 3x3 stride-1 undilated kernels by Winograd's F(m x m, 3 x 3), m = 2 or 4.
  void (*conv2d_forward_winograd)(const Conv2dGeometry&, int m, const T* x, const T* w, const T* b,
                                  bool relu, T* y);
  // The three passes of a 3x3 stride-2 undilated convolution by phases (F(4x4, 2x2), F(4, 2)
  // and a direct phase).
  void (*conv2d_forward_winograd_stride2)(const Conv2dGeometry&, const T* x, const T* w,
                                          const T* b, bool relu, T* y);
  void (*conv2d_backward_input_winograd_stride2)(const Conv2dGeometry&, const T* dy, const T* w,
                                                 T* dx);
  void (*conv2d_backward_kernel_winograd_stride2)(const Conv2dGeometry&, const T* x,
                                                  const T* dy, T* dw, T* db);
  void (*conv2d_backward_input_winograd)(const Conv2dGeometry&, int m, const T* dy, const T* w,
                                         T* dx);
  void (*conv2d_backward_kernel_winograd)(const Conv2dGeometry&, int m, const T* x, const T* dy,
                                          T* dw, T* db);
  void (*max_pool2d_forward)(const Conv2dGeometry&, const T* x, T* y);
  void (*max_pool2d_backward)(const Conv2dGeometry&, const T* x, const T* dy, T* dx);
  void (*avg_pool2d_forward)(const Conv2dGeometry&, const T* x, T* y);
  void (*avg_pool2d_backward)(const Conv2dGeometry&, const T* dy, T* dx);
  // c (M,N) = op(a) (M,K) . op(b) (K,N) + bias (N, may be null), optional relu; all contiguous;
  // op transposes a stored (K,M) / b stored (N,K) when trans_a / trans_b is set.
  void (*gemm)(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
               const T* bias, bool relu, T* c);
  // c (M,N) = a^T b for a (P,M) and b (P,N), and b_sums (N, may be null) = the column sums of b.
  void (*outer_product_sums)(Index P, Index M, Index N, const T* a, const T* b, T* c, T* b_sums);
  // dx (count) = dy * (y > 0), the gradient through a ReLU with output y; dx may be dy.
  void (*relu_backward)(Index count, const T* y, const T* dy, T* dx);
  // y (rows,OW) = correlation of the padded band xe (rows+KH-1, OW+KW-1) with w (KH,KW);
  // ldx, ldy: row strides of xe and y. Serial: the caller splits the work.
  void (*filter2d)(Index rows, Index OW, Index KH, Index KW, const T* xe, Index ldx, const T* w,
                   T* y, Index ldy);
};

struct KernelTable {
  const char* isa;
  KernelSet<float> f32;
  KernelSet<double> f64;
};

// The kernels of the ISA in use (dispatch.cpp): what the public entry points call.
template <typename T>
const KernelSet<T>& active_kernels();

// One per ISA translation-unit set, each defined in its own namespace.
namespace baseline { const KernelTable& kernel_table(); }
namespace avx2 { const KernelTable& kernel_table(); }
namespace avx512 { const KernelTable& kernel_table(); }

}  // namespace cnnkit
