// Dense matrix products for Dense layers, row-major.
//
//   gemm:  c (M,N) = op(a) . op(b) [+ bias (N)] [relu], op(a) (M,K), op(b) (K,N)
//          where op transposes when trans_a / trans_b is set (a stored (K,M), b stored (N,K)).
//   column_sums: out (N) = the sums of the columns of a (M,N), a product's bias gradient;
//          bitwise reproducible for a given thread count.
// c and out are overwritten. bias may be null.
#pragma once

#include "cnnkit/common.hpp"

namespace cnnkit {

template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
          const T* bias, bool relu, T* c);

template <typename T>
void column_sums(Index M, Index N, const T* a, T* out);

template <typename T>
void gemm_ref(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
              const T* bias, bool relu, T* c);

}  // namespace cnnkit
