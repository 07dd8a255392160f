// Vectorised 2-D correlation of a padded plane with a small kernel, one copy per ISA.
//
//   xe (OH+KH-1, OW+KW-1) padded plane, w (KH, KW), y (OH, OW):
//   y[i, j] = sum_{a, b} w[a, b] * xe[i + a, j + b]
//
// Vectors run along the output row: U vectors of adjacent output pixels are accumulated tap by
// tap from unaligned loads of the padded rows, so every load feeds one FMA and no data is
// rearranged. The common 3x3, 5x5 and 7x7 kernels get fully unrolled copies with their weights
// broadcast once per thread; any other size runs the same loops with run-time bounds. Work is
// split over (output row, column chunk) pairs so a single long row (a 1-D signal) still runs on
// every thread.
#include <cstdlib>
#include <cstring>
#include <new>

#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

constexpr Index kChunk = 2048;  // output columns per work item: a 2048-wide image is one item a row

// Output pixels [j, j + U * kLanes) of one row. kKH / kKW are the kernel size when known at
// compile time, 0 when given at run time in KH / KW. wv holds the broadcast weights of a fixed
// kernel; a run-time kernel broadcasts from w as it goes.
template <typename T, int U, int kKH, int kKW>
inline void row_block(const T* xe, Index PW, Index KH, Index KW, const T* w,
                      const typename Simd<T>::Vec* wv, T* out) {
  using S = Simd<T>;
  const Index kh = kKH ? kKH : KH, kw = kKW ? kKW : KW;
  typename S::Vec acc[U];
  for (int u = 0; u < U; ++u) acc[u] = S::zero();
#pragma GCC unroll 7
  for (Index a = 0; a < kh; ++a) {
    const T* row = xe + a * PW;
#pragma GCC unroll 7
    for (Index b = 0; b < kw; ++b) {
      const typename S::Vec weight = kKH ? wv[a * kw + b] : S::broadcast(w[a * kw + b]);
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) acc[u] += weight * S::load(row + b + u * S::kLanes);
    }
  }
  for (int u = 0; u < U; ++u) S::store(out + u * S::kLanes, acc[u]);
}

template <typename T, int kKH, int kKW>
void filter2d_sized(Index OH, Index OW, Index KH, Index KW, const T* xe, const T* w, T* y) {
  using S = Simd<T>;
  constexpr int kUnroll = 4;
  constexpr Index kBlock = kUnroll * S::kLanes;
  const Index PW = OW + KW - 1, chunks = ceil_div(OW, kChunk);
  parallel_for(OH * chunks, [&](Index begin, Index end, int) {
    // Broadcast weights of a fixed-size kernel (unused, one element, for run-time sizes).
    typename S::Vec wv[kKH ? kKH * kKW : 1];
    for (Index t = 0; t < (kKH ? kKH * kKW : 0); ++t) wv[t] = S::broadcast(w[t]);
    for (Index item = begin; item < end; ++item) {
      const Index i = item / chunks, j0 = (item % chunks) * kChunk;
      const Index j1 = min_index(OW, j0 + kChunk);
      const T* xrow = xe + i * PW;
      T* out = y + i * OW;
      Index j = j0;
      for (; j + kBlock <= j1; j += kBlock)
        row_block<T, kUnroll, kKH, kKW>(xrow + j, PW, KH, KW, w, wv, out + j);
      for (; j + S::kLanes <= j1; j += S::kLanes)
        row_block<T, 1, kKH, kKW>(xrow + j, PW, KH, KW, w, wv, out + j);
      for (; j < j1; ++j) {  // fewer than one vector left
        T sum = 0;
        for (Index a = 0; a < KH; ++a)
          for (Index b = 0; b < KW; ++b) sum += w[a * KW + b] * xrow[a * PW + j + b];
        out[j] = sum;
      }
    }
  });
}

template <typename T>
void filter2d(Index OH, Index OW, Index KH, Index KW, const T* xe, const T* w, T* y) {
  if (KH == 3 && KW == 3) return filter2d_sized<T, 3, 3>(OH, OW, KH, KW, xe, w, y);
  if (KH == 5 && KW == 5) return filter2d_sized<T, 5, 5>(OH, OW, KH, KW, xe, w, y);
  if (KH == 7 && KW == 7) return filter2d_sized<T, 7, 7>(OH, OW, KH, KW, xe, w, y);
  filter2d_sized<T, 0, 0>(OH, OW, KH, KW, xe, w, y);
}

}  // namespace

template <typename T>
void fill_filter2d_kernels(KernelSet<T>* set) {
  set->filter2d = &filter2d<T>;
}
template void fill_filter2d_kernels<float>(KernelSet<float>*);
template void fill_filter2d_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
