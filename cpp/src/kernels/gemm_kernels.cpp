// Packed, register-tiled matrix product c = a . b + bias for Dense layers (Goto/BLIS blocking).
// K is cut into slices of kDepth; in each slice b is packed into column panels of kCols columns
// and a into row tiles of kRows rows, each just before use by the thread that uses it. A
// micro-kernel keeps one kRows x kCols tile of c in registers over a slice; a block of panels
// stays in L2 while every row tile of the thread passes over it. Compiled once per ISA.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"
#include "kernels/tile.hpp"

namespace {

// Bytes of L2 cache per core; 512 KiB (AVX2 Zen, many Intel cores) where the system won't say.
inline Index l2_bytes() {
  static const Index bytes = [] {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
#else
    const long reported = 0;
#endif
    return reported > 0 ? Index(reported) : Index(512 * 1024);
  }();
  return bytes;
}

template <typename T, int kVecs>
struct Gemm {
  using S = Simd<T>;
  using Vec = typename S::Vec;

  // The register tile: kRows rows x kVecs vectors. 6 x 2 (BLIS's 6x16 for float) uses 12 of
  // AVX2's 16 registers for accumulators, 2 for b and 1 for the broadcast; AVX-512's 32 take
  // 12 x 2, which halves the b loads per multiply-add. Products with at most one vector of
  // columns (a Dense layer's 10 classes on AVX-512) take kVecs = 1 and waste fewer lanes.
  static constexpr int kRows = CNNKIT_VEC_BYTES == 64 ? 12 : 6;
  static constexpr Index kCols = kVecs * S::kLanes;

  // Cache blocking. One panel of a slice (kDepth x kCols: 16 KiB on AVX2, 32 KiB on AVX-512)
  // stays in L1 while kBlockTiles row tiles use it; a block of panels_per_block() panels (a
  // quarter of L2, about what BLIS keeps there) stays in L2 while all the row tiles of a thread
  // pass over it, so b comes from L3 or memory once per slice and thread.
  static constexpr Index kDepth = 256;
  static constexpr Index kBlockTiles = 4;
  static Index panels_per_block() {
    const Index panel_bytes = kDepth * kCols * Index(sizeof(T));
    return l2_bytes() / 4 >= panel_bytes ? l2_bytes() / 4 / panel_bytes : 1;
  }

  // acc = sum_{r < depth} a[r*NP + p] * b[r*kCols + 0..kCols): a holds NP rows packed r-major
  // and interleaved, b one panel; both are read as single contiguous streams.
  template <int NP>
  static inline void multiply(Index depth, const T* a, const T* b, Vec (&acc)[NP][kVecs]) {
#pragma GCC unroll 12
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < kVecs; ++j) acc[p][j] = S::zero();
    // Unrolled as a whole loop body (not by hand), so each step keeps the same registers.
#pragma GCC unroll 4
    for (Index r = 0; r < depth; ++r, a += NP, b += kCols) {
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
  }

  // c[p][0..count) = acc[p] + (first ? bias : c[p]), then ReLU if asked; rows are ldc apart.
  template <int NP>
  static inline void update(Vec (&acc)[NP][kVecs], const T* bias, bool first, bool relu,
                            Index count, T* c, Index ldc, bool stream) {
    if (stream) {  // c = acc + bias, whole aligned vectors
#pragma GCC unroll 12
      for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
        for (int j = 0; j < kVecs; ++j) {
          const Vec v = acc[p][j] + S::load(bias + j * S::kLanes);
          S::stream(c + p * ldc + j * S::kLanes, relu ? S::relu(v) : v);
        }
      return;
    }
    for (int p = 0; p < NP; ++p) {
      T* row = c + p * ldc;
      const T* add = first ? bias : row;
      Vec v[kVecs];
      if (count == kCols) {
        for (int j = 0; j < kVecs; ++j) v[j] = acc[p][j] + S::load(add + j * S::kLanes);
      } else {
        T lanes[kCols] = {};
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

  // dst[r][i] = op(b)[k0 + r][j*kCols + i] for r < depth, zero past N, where op(b) (K, N) is b
  // or, with trans_b, the transpose of b stored (N, K).
  static void pack_panel(bool trans_b, Index N, Index K, const T* b, Index j, Index k0,
                         Index depth, T* dst) {
    const Index n0 = j * kCols, count = min_index(kCols, N - n0);
    if (trans_b) {
      const T* src = b + n0 * K + k0;
      for (Index r = 0; r < depth; ++r, dst += kCols) {
        if (count == kCols) {
#pragma GCC unroll 32
          for (Index i = 0; i < kCols; ++i) dst[i] = src[i * K + r];
        } else {
          for (Index i = 0; i < count; ++i) dst[i] = src[i * K + r];
          for (Index i = count; i < kCols; ++i) dst[i] = T(0);
        }
      }
      return;
    }
    for (Index k = k0; k < k0 + depth; ++k, dst += kCols) {
      if (count == kCols) {  // a fixed size compiles to vector moves, not a call
        std::memcpy(dst, b + k * N + n0, kCols * sizeof(T));
      } else {
        std::memcpy(dst, b + k * N + n0, count * sizeof(T));
        for (Index i = count; i < kCols; ++i) dst[i] = T(0);
      }
    }
  }

  // dst[r][p] = op(a)[t*kRows + p][k0 + r] for r < depth and the np rows of tile t (interleaved
  // by np, so a short last tile is as dense as the others), where op(a) (M, K) is a or, with
  // trans_a, the transpose of a stored (K, M).
  static void pack_tile(bool trans_a, Index M, Index K, const T* a, Index t, Index k0,
                        Index depth, T* dst) {
    const Index m0 = t * kRows;
    with_rows(int(min_index(kRows, M - m0)), [&](auto np) {
      constexpr int NP = decltype(np)::value;
      if (trans_a) {
        const T* src = a + k0 * M + m0;
        for (Index r = 0; r < depth; ++r) std::memcpy(dst + r * NP, src + r * M, NP * sizeof(T));
      } else {
        const T* src = a + m0 * K + k0;
        for (Index r = 0; r < depth; ++r)
#pragma GCC unroll 12
          for (int p = 0; p < NP; ++p) dst[r * NP + p] = src[p * K + r];
      }
    });
  }

  static void run(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
                  const T* bias, bool relu, T* c) {
    const Index nb = ceil_div(N, kCols), mt = ceil_div(M, kRows);
    const Index block = min_index(nb, panels_per_block());
    Buffer<T> bias_padded(nb * kCols);
    for (Index o = 0; o < nb * kCols; ++o)
      bias_padded.data()[o] = (bias != nullptr && o < N) ? bias[o] : T(0);

    // A product written once (one slice of K) and far larger than L2 streams its tiles past
    // the caches on AVX-512, where a tile's row is whole cache lines: j's 25 MB forward output,
    // +12% on a Zen 4 (the same stores on AVX2 measured 9% slower there).
    const bool stream = CNNKIT_VEC_BYTES == 64 && K <= kDepth &&
                        M * N * Index(sizeof(T)) >= 8 * l2_bytes() &&
                        reinterpret_cast<std::uintptr_t>(c) % 64 == 0 &&
                        N * Index(sizeof(T)) % 64 == 0;

    // Each thread owns a contiguous range of row tiles, so no two threads write one element of
    // c. It packs, in its own buffers, the block of panels it is about to use (kept in its L2
    // while all its row tiles pass over it) and the rows of kBlockTiles tiles at a time (kept in
    // L1 or L2 while they pass over the block): packed data is written to cache, not memory,
    // and no thread waits for another.
    parallel_for(mt, [&](Index begin, Index end, int) {
      Buffer<T> panels(block * kDepth * kCols), rows(kBlockTiles * kRows * kDepth);
      for (Index j0 = 0; j0 < nb; j0 += block) {
        const Index j1 = min_index(nb, j0 + block);
        for (Index k0 = 0; k0 == 0 || k0 < K; k0 += kDepth) {  // one pass if K == 0: c = bias
          const Index depth = min_index(kDepth, K - k0);
          const bool first = k0 == 0, last = k0 + depth >= K;
          for (Index j = j0; j < j1; ++j)
            pack_panel(trans_b, N, K, b, j, k0, depth, panels.data() + (j - j0) * depth * kCols);
          for (Index t0 = begin; t0 < end; t0 += kBlockTiles) {
            const Index t1 = min_index(end, t0 + kBlockTiles);
            for (Index t = t0; t < t1; ++t)
              pack_tile(trans_a, M, K, a, t, k0, depth, rows.data() + (t - t0) * depth * kRows);
            for (Index j = j0; j < j1; ++j) {
              const Index count = min_index(kCols, N - j * kCols);
              for (Index t = t0; t < t1; ++t) {
                T* ct = c + t * kRows * N + j * kCols;
                with_rows(int(min_index(kRows, M - t * kRows)), [&](auto np) {
                  constexpr int NP = decltype(np)::value;
                  // The tile of c is read (and written) only after the product: fetch it now.
                  for (int p = 0; p < NP; ++p) {
                    __builtin_prefetch(ct + p * N, 1);
                    __builtin_prefetch(ct + p * N + count - 1, 1);
                  }
                  Vec acc[NP][kVecs];
                  multiply<NP>(depth, rows.data() + (t - t0) * depth * kRows,
                               panels.data() + (j - j0) * depth * kCols, acc);
                  update<NP>(acc, bias_padded.data() + j * kCols, first, relu && last, count, ct,
                             N, stream && count == kCols);
                });
              }
            }
          }
        }
      }
      if (stream) S::fence();
    });
  }
};

template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
          const T* bias, bool relu, T* c) {
  if (N <= Simd<T>::kLanes)
    Gemm<T, 1>::run(trans_a, trans_b, M, N, K, a, b, bias, relu, c);
  else
    Gemm<T, 2>::run(trans_a, trans_b, M, N, K, a, b, bias, relu, c);
}

// c (M,N) = a^T b and b_sums (N) = the column sums of b (unless null), for a (P,M) and b (P,N)
// with P far larger than M and N: a 1x1 convolution's kernel and bias gradients, where packing
// both operands, as gemm does, would copy them whole for little arithmetic per element. The
// micro-kernel reads them in place instead, chunk by chunk of rows small enough to stay in L2:
// per block of N (whose column of the chunk stays in L1) every tile of M sums the chunk's outer
// products, and the chunk's column sums of that block are taken while it is there. Threads sum
// contiguous ranges of chunks into private copies, added in thread order at the end (bitwise
// reproducible for a given thread count).
template <typename T>
void outer_product_sums(Index P, Index M, Index N, const T* a, const T* b, T* c, T* b_sums) {
  using K = Tile<T>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index nb = ceil_div(N, B), ldp = nb * B, tail = N % B;
  // Rows per chunk: a's and b's about 128 KiB together (64 to 256 KiB measure the same).
  const Index row_bytes = std::max<Index>(M + N, 1) * Index(sizeof(T));
  const Index chunk = std::max<Index>(16, (Index(128) << 10) / row_bytes);
  const Index chunks = ceil_div(P, chunk);
  const Index nthreads = min_index(get_num_threads(), std::max<Index>(chunks, 1));
  const Index per_thread = (M + 1) * ldp;  // private c (rows ldp apart), then b_sums
  Buffer<T> partial(nthreads * per_thread);
  zero_partials(partial.data(), nthreads, per_thread);

  parallel_for(chunks, [&](Index begin, Index end, int thread) {
    T* sums = partial.data() + thread * per_thread;
    Buffer<T> last(tail != 0 ? chunk * B : 0);  // the chunk's partial last block, zero-padded
    for (Index ch = begin; ch < end; ++ch) {
      const Index p0 = ch * chunk, rows = min_index(chunk, P - p0);
      const T* ac = a + p0 * M;
      const T* bc = b + p0 * N;
      if (tail != 0)
        for (Index r = 0; r < rows; ++r)
          for (Index i = 0; i < B; ++i)
            last.data()[r * B + i] = i < tail ? bc[r * N + (nb - 1) * B + i] : T(0);
      // The next chunk's rows of a and b, a slice per block of N fetched into L2 while this
      // chunk is summed, so the chunk's first block does not wait on memory (j kernel gradient
      // +5% AVX2, +11% AVX-512).
      const Index next_rows = min_index(chunk, P - p0 - rows);
      const auto fetch_slice = [&](const T* rows0, Index width, Index jb) {
        const Index values = next_rows * width;
        for (Index i = jb * values / nb; i < (jb + 1) * values / nb; i += S::kLineValues)
          __builtin_prefetch(rows0 + i, 0, 2);
      };
      for (Index jb = 0; jb < nb; ++jb) {
        if (next_rows > 0) {
          fetch_slice(ac + rows * M, M, jb);
          fetch_slice(bc + rows * N, N, jb);
        }
        const bool partial_block = tail != 0 && jb == nb - 1;
        const T* bj = partial_block ? last.data() : bc + jb * B;
        const Index ldb = partial_block ? B : N;
        for_each_tile(M, K::kPixels, [&](Index m0, auto np) {
          constexpr int NP = decltype(np)::value;
          Vec acc[NP][K::kVecs];
          K::template load<NP>(sums + m0 * ldp + jb * B, ldp, B, acc);
          K::template reduce<NP>(rows, bj, ldb,
                                 [&](int q, Index r) { return ac[r * M + m0 + q]; }, acc);
          K::template store<NP>(acc, B, false, sums + m0 * ldp + jb * B, ldp);
        });
        if (b_sums == nullptr) continue;
        Vec total[K::kVecs];
        T* out = sums + M * ldp + jb * B;
        for (int j = 0; j < K::kVecs; ++j) total[j] = S::load(out + j * L);
        for (Index r = 0; r < rows; ++r)
          for (int j = 0; j < K::kVecs; ++j) total[j] += S::load(bj + r * ldb + j * L);
        for (int j = 0; j < K::kVecs; ++j) S::store(out + j * L, total[j]);
      }
    }
  });

  parallel_for(M + 1, [&](Index begin, Index end, int) {
    for (Index row = begin; row < end; ++row) {
      T* out = row < M ? c + row * N : b_sums;
      if (out == nullptr) continue;
      for (Index j = 0; j < N; ++j) {
        T total = partial.data()[row * ldp + j];
        for (Index t = 1; t < nthreads; ++t)
          total += partial.data()[t * per_thread + row * ldp + j];
        out[j] = total;
      }
    }
  });
}

}  // namespace

template <typename T>
void fill_gemm_kernels(KernelSet<T>* set) {
  set->gemm = &gemm<T>;
  set->outer_product_sums = &outer_product_sums<T>;
}
template void fill_gemm_kernels<float>(KernelSet<float>*);
template void fill_gemm_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
