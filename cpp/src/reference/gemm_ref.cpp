// Triple-loop matrix product with double accumulation: the oracle for the packed GEMM.
#include "cnnkit/gemm.hpp"

namespace cnnkit {

template <typename T>
void gemm_ref(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
              const T* bias, bool relu, T* c) {
  for (Index m = 0; m < M; ++m)
    for (Index n = 0; n < N; ++n) {
      double sum = bias ? double(bias[n]) : 0.0;
      for (Index k = 0; k < K; ++k)
        sum += double(trans_a ? a[k * M + m] : a[m * K + k]) *
               double(trans_b ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = T(relu && sum < 0 ? 0.0 : sum);
    }
}

template void gemm_ref<float>(bool, bool, Index, Index, Index, const float*, const float*,
                              const float*, bool, float*);
template void gemm_ref<double>(bool, bool, Index, Index, Index, const double*, const double*,
                               const double*, bool, double*);

}  // namespace cnnkit
