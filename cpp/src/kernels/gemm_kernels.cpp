// Packed, register-tiled matrix product c = a . b + bias for Dense layers.
// b is packed once into column panels of one block width; rows of a stream through the same
// micro-kernel as convolution (tile.hpp) with a single tap. Compiled once per ISA.
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"
#include "kernels/tile.hpp"

namespace {

template <typename T>
void gemm(Index M, Index N, Index K, const T* a, const T* b, const T* bias, bool relu, T* c) {
  using Kt = Tile<T>;
  constexpr Index B = Kt::kBlock;
  const Index nb = ceil_div(N, B), mt = ceil_div(M, Index(Kt::kPixels));
  Buffer<T> panels(nb * K * B), bias_padded(nb * B), zeros(K);
  parallel_for(nb, [&](Index begin, Index end, int) {
    for (Index j = begin; j < end; ++j)
      for (Index k = 0; k < K; ++k)
        for (Index i = 0; i < B; ++i)
          panels.data()[(j * K + k) * B + i] = j * B + i < N ? b[k * N + j * B + i] : T(0);
  });
  for (Index o = 0; o < nb * B; ++o)
    bias_padded.data()[o] = (bias != nullptr && o < N) ? bias[o] : T(0);

  // Items ordered panel-major: consecutive items of one thread reuse the same panel of b.
  parallel_for(nb * mt, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index j = item / mt, m0 = (item % mt) * Kt::kPixels;
      with_rows(int(min_index(Kt::kPixels, M - m0)), [&](auto np) {
        constexpr int NP = decltype(np)::value;
        typename Kt::Vec acc[NP][Kt::kVecs];
        Kt::template init<NP>(bias_padded.data() + j * B, acc);
        Kt::template accumulate<NP>(1, K, panels.data() + j * K * B, zeros.data(),
                                    [&](Index, int p) { return a + (m0 + p) * K; }, acc);
        Kt::template store<NP>(acc, min_index(B, N - j * B), relu, c + m0 * N + j * B, N);
      });
    }
  });
}

}  // namespace

template <typename T>
void fill_gemm_kernels(KernelSet<T>* set) {
  set->gemm = &gemm<T>;
}
template void fill_gemm_kernels<float>(KernelSet<float>*);
template void fill_gemm_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
