// Dense matrix products for Dense layers, row-major.
//
//   gemm:  c (M,N) = op(a) . op(b) [+ bias (N)] [relu], op(a) (M,K), op(b) (K,N)
//          where op transposes when trans_a / trans_b is set (a stored (K,M), b stored (N,K)).
//   outer_product_sums: c (M,N) = a^T . b for a (P,M) and b (P,N) with P far larger than M and
//          N, and b_sums (N) = the column sums of b (a 1x1 convolution's kernel and bias
//          gradients); bitwise reproducible for a given thread count.
// c and b_sums are overwritten. bias and b_sums may be null.
#pragma once

#include "cnnkit/common.hpp"

namespace cnnkit {

template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
          const T* bias, bool relu, T* c);

template <typename T>
void outer_product_sums(Index P, Index M, Index N, const T* a, const T* b, T* c, T* b_sums);

template <typename T>
void gemm_ref(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
              const T* bias, bool relu, T* c);

}  // namespace cnnkit
