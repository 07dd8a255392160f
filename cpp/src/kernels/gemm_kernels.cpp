// Packed, register-tiled matrix product c = a . b + bias for Dense layers (Goto/BLIS blocking).
// b is packed once into column panels of kCols columns; rows of a are packed per block into
// row tiles of kRows rows; a micro-kernel keeps one kRows x kCols tile of c in registers over a
// slice of K. Compiled once per ISA.
#include <cstring>
#include <type_traits>

#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

template <typename T>
struct Gemm {
  using S = Simd<T>;
  using Vec = typename S::Vec;

  // The register tile: kRows rows x kVecs vectors. 6 x 2 (BLIS's 6x16 for float) uses 12 of
  // AVX2's 16 registers for accumulators, 2 for b and 1 for the broadcast; AVX-512's 32 take
  // 12 x 2, which halves the b loads per multiply-add.
  static constexpr int kRows = CNNKIT_VEC_BYTES == 64 ? 12 : 6;
  static constexpr int kVecs = 2;
  static constexpr Index kCols = kVecs * S::kLanes;

  // Cache blocking: a slice of kDepth rows of one b panel (kDepth x kCols: 16 KiB on AVX2,
  // 32 KiB on AVX-512) stays in L1 while it serves every row tile of a block of kBlockTiles
  // tiles, whose packed rows of a (the block x kDepth) stay in L2 across all the panels.
  static constexpr Index kDepth = 256;
  static constexpr Index kBlockTiles = 8;
  static constexpr Index kLine = 64 / sizeof(T);  // elements per cache line

  // acc = sum_{r < depth} a[r*NP + p] * b[r*kCols + 0..kCols): a holds NP rows packed r-major
  // and interleaved, b one panel slice; both are read as single contiguous streams. With
  // kFetch, each step also prefetches into L2 the same part of the panel at `next`, which
  // the caller reads after this one.
  template <int NP, bool kFetch>
  static inline void multiply(Index depth, const T* a, const T* b, const T* next,
                              Vec (&acc)[NP][kVecs]) {
#pragma GCC unroll 12
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < kVecs; ++j) acc[p][j] = S::zero();
#pragma GCC unroll 4
    for (Index r = 0; r < depth; ++r, a += NP, b += kCols, next += kCols) {
      if constexpr (kFetch)
        for (Index l = 0; l < kCols; l += kLine) __builtin_prefetch(next + l, 0, 2);
      rank_one<NP>(a, b, acc);
    }
  }

  template <int NP>
  static inline void rank_one(const T* a, const T* b, Vec (&acc)[NP][kVecs]) {
    Vec w[kVecs];
#pragma GCC unroll 4
    for (int j = 0; j < kVecs; ++j) w[j] = S::load(b + j * S::kLanes);
#pragma GCC unroll 12
    for (int p = 0; p < NP; ++p) {
      const Vec x = S::broadcast(a[p]);
#pragma GCC unroll 4
      for (int j = 0; j < kVecs; ++j) acc[p][j] += x * w[j];
    }
  }

  // c[p][0..count) = acc[p] + (first ? bias : c[p]), then ReLU if asked; rows are ldc apart.
  template <int NP>
  static inline void update(Vec (&acc)[NP][kVecs], const T* bias, bool first, bool relu,
                            Index count, T* c, Index ldc) {
    for (int p = 0; p < NP; ++p) {
      T* row = c + p * ldc;
      Vec v[kVecs];
      if (count == kCols) {
        for (int j = 0; j < kVecs; ++j)
          v[j] = acc[p][j] + S::load((first ? bias : row) + j * S::kLanes);
      } else {
        T lanes[kCols] = {};
        const T* add = first ? bias : row;
        for (Index i = 0; i < count; ++i) lanes[i] = add[i];
        std::memcpy(v, lanes, sizeof(lanes));
        for (int j = 0; j < kVecs; ++j) v[j] += acc[p][j];
      }
      if (relu)
        for (int j = 0; j < kVecs; ++j) v[j] = S::relu(v[j]);
      if (count == kCols) {
        for (int j = 0; j < kVecs; ++j) S::store(row + j * S::kLanes, v[j]);
      } else {
        T lanes[kCols];
        std::memcpy(lanes, v, sizeof(lanes));
        for (Index i = 0; i < count; ++i) row[i] = lanes[i];
      }
    }
  }

  // Calls f(std::integral_constant<int, n>) for the row count n of a tile, 1 <= n <= kRows.
  template <int NP = kRows, typename F>
  static inline void with_rows(int n, F&& f) {
    if constexpr (NP == 1) {
      f(std::integral_constant<int, 1>{});
    } else {
      if (n == NP)
        f(std::integral_constant<int, NP>{});
      else
        with_rows<NP - 1>(n, f);
    }
  }

  static void run(Index M, Index N, Index K, const T* a, const T* b, const T* bias, bool relu,
                  T* c) {
    const Index nb = ceil_div(N, kCols), mt = ceil_div(M, kRows);
    // b in slices of kDepth rows, each slice panel after panel: the panel of slice k0 / kDepth
    // for columns [j*kCols, (j+1)*kCols) is panels + k0*nb*kCols + j*depth*kCols, depth x kCols
    // row-major, zero past N. The panels of one slice are read in order as one stream.
    Buffer<T> panels(nb * K * kCols), bias_padded(nb * kCols);
    parallel_for(nb, [&](Index begin, Index end, int) {
      for (Index k0 = 0; k0 < K; k0 += kDepth) {
        const Index depth = min_index(kDepth, K - k0);
        for (Index j = begin; j < end; ++j) {
          const Index n0 = j * kCols, count = min_index(kCols, N - n0);
          T* dst = panels.data() + k0 * nb * kCols + j * depth * kCols;
          for (Index k = k0; k < k0 + depth; ++k, dst += kCols) {
            if (count == kCols) {  // a fixed size compiles to vector moves, not a call
              std::memcpy(dst, b + k * N + n0, kCols * sizeof(T));
            } else {
              std::memcpy(dst, b + k * N + n0, count * sizeof(T));
              for (Index i = count; i < kCols; ++i) dst[i] = T(0);
            }
          }
        }
      }
    });
    for (Index o = 0; o < nb * kCols; ++o)
      bias_padded.data()[o] = (bias != nullptr && o < N) ? bias[o] : T(0);

    // Each thread owns a contiguous range of row tiles, so no two threads write one element of
    // c; both read the same packed b.
    parallel_for(mt, [&](Index begin, Index end, int) {
      Buffer<T> packed(kBlockTiles * kRows * kDepth);
      for (Index t0 = begin; t0 < end; t0 += kBlockTiles) {
        const Index t1 = min_index(end, t0 + kBlockTiles);
        for (Index k0 = 0; k0 == 0 || k0 < K; k0 += kDepth) {  // one pass if K == 0: c = bias
          const Index depth = min_index(kDepth, K - k0);
          const bool first = k0 == 0, last = k0 + depth >= K;
          pack_rows(M, K, a, t0, t1, k0, depth, packed.data());
          for (Index j = 0; j < nb; ++j) {
            const T* panel = panels.data() + k0 * nb * kCols + j * depth * kCols;
            const Index count = min_index(kCols, N - j * kCols);
            for (Index t = t0; t < t1; ++t) {
              const Index m0 = t * kRows;
              T* ct = c + m0 * N + j * kCols;
              const T* at = packed.data() + (t - t0) * kRows * kDepth;
              with_rows(int(min_index(kRows, M - m0)), [&](auto np) {
                constexpr int NP = decltype(np)::value;
                // The tile of c is read (and written) only after the product: fetch it now.
                for (int p = 0; p < NP; ++p) {
                  __builtin_prefetch(ct + p * N, 1);
                  __builtin_prefetch(ct + p * N + count - 1, 1);
                }
                // The next panel follows this one in memory: the first tile fetches it into L2,
                // so the next panel's first tile does not wait on L3 or memory.
                Vec acc[NP][kVecs];
                if (t == t0)
                  multiply<NP, true>(depth, at, panel, panel + depth * kCols, acc);
                else
                  multiply<NP, false>(depth, at, panel, panel, acc);
                update<NP>(acc, bias_padded.data() + j * kCols, first, relu && last, count, ct,
                           N);
              });
            }
          }
        }
      }
    });
  }

  // packed[t - t0][r][p] = a[t*kRows + p][k0 + r] for the rows of tiles [t0, t1) (a short last
  // tile of np rows is interleaved by np).
  static void pack_rows(Index M, Index K, const T* a, Index t0, Index t1, Index k0, Index depth,
                        T* packed) {
    for (Index t = t0; t < t1; ++t) {
      const Index m0 = t * kRows, np = min_index(kRows, M - m0);
      T* dst = packed + (t - t0) * kRows * kDepth;
      const T* src = a + m0 * K + k0;
      with_rows(int(np), [&](auto rows) {
        constexpr int NP = decltype(rows)::value;
        for (Index r = 0; r < depth; ++r)
#pragma GCC unroll 12
          for (int p = 0; p < NP; ++p) dst[r * NP + p] = src[p * K + r];
      });
    }
  }
};

template <typename T>
void gemm(Index M, Index N, Index K, const T* a, const T* b, const T* bias, bool relu, T* c) {
  Gemm<T>::run(M, N, K, a, b, bias, relu, c);
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
