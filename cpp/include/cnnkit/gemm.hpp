// Dense matrix products for Dense layers, row-major.
//
//   gemm:  c (M,N) = op(a) . op(b) [+ bias (N)] [relu], op(a) (M,K), op(b) (K,N)
//          where op transposes when trans_a / trans_b is set (a stored (K,M), b stored (N,K)).
// c is overwritten. bias may be null.
#pragma once

#include "cnnkit/common.hpp"

namespace cnnkit {

template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
          const T* bias, bool relu, T* c);

template <typename T>
void gemm_ref(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
              const T* bias, bool relu, T* c);

}  // namespace cnnkit
