// Packed, register-tiled matrix product c = a . b + bias for Dense layers.
// b is packed once into column panels of one block width; rows of a stream through the same
// micro-kernel as convolution (tile.hpp) with a single tap, blocked over K for the caches.
// Compiled once per ISA.
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

// Blocking (Goto/BLIS): K is split into slices of kDepth so one panel slice (kDepth x kBlock)
// stays in L1 while it serves every row tile of a chunk of kChunkTiles tiles, whose rows of a
// (chunk x kDepth, packed tile by tile) stay in L2 across all the panels. Partial sums go
// through c between slices.
constexpr Index kDepth = 256;
constexpr Index kChunkTiles = 16;

template <typename T>
void gemm(Index M, Index N, Index K, const T* a, const T* b, const T* bias, bool relu, T* c) {
  using Kt = Tile<T>;
  constexpr Index B = Kt::kBlock, P = Kt::kPixels;
  const Index nb = ceil_div(N, B), mt = ceil_div(M, P);
  Buffer<T> panels(nb * K * B), bias_padded(nb * B);
  parallel_for(nb, [&](Index begin, Index end, int) {
    for (Index j = begin; j < end; ++j)
      for (Index k = 0; k < K; ++k)
        for (Index i = 0; i < B; ++i)
          panels.data()[(j * K + k) * B + i] = j * B + i < N ? b[k * N + j * B + i] : T(0);
  });
  for (Index o = 0; o < nb * B; ++o)
    bias_padded.data()[o] = (bias != nullptr && o < N) ? bias[o] : T(0);

  // Each thread owns a contiguous range of row tiles, so no two threads write one element of c.
  parallel_for(mt, [&](Index begin, Index end, int) {
    Buffer<T> packed(kChunkTiles * P * kDepth);
    for (Index t0 = begin; t0 < end; t0 += kChunkTiles) {
      const Index t1 = min_index(end, t0 + kChunkTiles);
      for (Index k0 = 0; k0 == 0 || k0 < K; k0 += kDepth) {  // one pass if K == 0: c = bias
        const Index depth = min_index(kDepth, K - k0);
        const bool first = k0 == 0, last = k0 + depth >= K;
        // packed[t][r][p] = a[m0 + p][k0 + r] for the np rows of tile t.
        for (Index t = t0; t < t1; ++t) {
          const Index m0 = t * P, np = min_index(P, M - m0);
          T* dst = packed.data() + (t - t0) * P * kDepth;
          for (Index p = 0; p < np; ++p)
            for (Index r = 0; r < depth; ++r) dst[r * np + p] = a[(m0 + p) * K + k0 + r];
        }
        for (Index j = 0; j < nb; ++j) {
          const T* panel = panels.data() + (j * K + k0) * B;
          const Index count = min_index(B, N - j * B);
          for (Index t = t0; t < t1; ++t) {
            const Index m0 = t * P;
            T* ct = c + m0 * N + j * B;
            with_rows(int(min_index(P, M - m0)), [&](auto np) {
              constexpr int NP = decltype(np)::value;
              typename Kt::Vec acc[NP][Kt::kVecs];
              if (first)
                Kt::template init<NP>(bias_padded.data() + j * B, acc);
              else
                Kt::template load<NP>(ct, N, count, acc);
              Kt::template accumulate_packed<NP>(depth, packed.data() + (t - t0) * P * kDepth,
                                                 panel, acc);
              Kt::template store<NP>(acc, count, relu && last, ct, N);
            });
          }
        }
      }
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
