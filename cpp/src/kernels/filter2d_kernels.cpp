// Vectorised 2-D correlation of a padded band of rows with a small kernel, one copy per ISA.
//
//   xe (rows+KH-1, OW+KW-1) padded band, w (KH, KW), y (rows, OW):
//   y[i, j] = sum_{a, b} w[a, b] * xe[i + a, j + b]
//
// Vectors run along the output row: U vectors of adjacent output pixels are accumulated tap by
// tap from unaligned loads of the padded rows, so every load feeds one FMA and no data is
// rearranged. The common 3x3, 5x5 and 7x7 kernels get fully unrolled copies with their weights
// broadcast once per call; any other size runs the same loops with run-time bounds. The kernel
// is serial: filter2d.cpp pads bands small enough to stay in cache and runs them in parallel.
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

// Output pixels [j, j + U * kLanes) of one row. kKH / kKW are the kernel size when known at
// compile time, 0 when given at run time in KH / KW. wv holds the broadcast weights of a fixed
// kernel; a run-time kernel broadcasts from w as it goes.
template <typename T, int U, int kKH, int kKW>
inline void row_block(const T* xe, Index ldx, Index KH, Index KW, const T* w,
                      const typename Simd<T>::Vec* wv, T* out) {
  using S = Simd<T>;
  const Index kh = kKH ? kKH : KH, kw = kKW ? kKW : KW;
  typename S::Vec acc[U];
  for (int u = 0; u < U; ++u) acc[u] = S::zero();
#pragma GCC unroll 7
  for (Index a = 0; a < kh; ++a) {
    const T* row = xe + a * ldx;
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
void filter2d_sized(Index rows, Index OW, Index KH, Index KW, const T* xe, Index ldx, const T* w,
                    T* y, Index ldy) {
  using S = Simd<T>;
  constexpr int kUnroll = 4;
  constexpr Index kBlock = kUnroll * S::kLanes;
  // Broadcast weights of a fixed-size kernel (unused, one element, for run-time sizes).
  typename S::Vec wv[kKH ? kKH * kKW : 1];
  for (Index t = 0; t < (kKH ? kKH * kKW : 0); ++t) wv[t] = S::broadcast(w[t]);
  for (Index i = 0; i < rows; ++i) {
    const T* xrow = xe + i * ldx;
    T* out = y + i * ldy;
    Index j = 0;
    for (; j + kBlock <= OW; j += kBlock)
      row_block<T, kUnroll, kKH, kKW>(xrow + j, ldx, KH, KW, w, wv, out + j);
    for (; j + S::kLanes <= OW; j += S::kLanes)
      row_block<T, 1, kKH, kKW>(xrow + j, ldx, KH, KW, w, wv, out + j);
    for (; j < OW; ++j) {  // fewer than one vector left
      T sum = 0;
      for (Index a = 0; a < KH; ++a)
        for (Index b = 0; b < KW; ++b) sum += w[a * KW + b] * xrow[a * ldx + j + b];
      out[j] = sum;
    }
  }
}

template <typename T>
void filter2d(Index rows, Index OW, Index KH, Index KW, const T* xe, Index ldx, const T* w, T* y,
              Index ldy) {
  if (KH == 3 && KW == 3) return filter2d_sized<T, 3, 3>(rows, OW, KH, KW, xe, ldx, w, y, ldy);
  if (KH == 5 && KW == 5) return filter2d_sized<T, 5, 5>(rows, OW, KH, KW, xe, ldx, w, y, ldy);
  if (KH == 7 && KW == 7) return filter2d_sized<T, 7, 7>(rows, OW, KH, KW, xe, ldx, w, y, ldy);
  filter2d_sized<T, 0, 0>(rows, OW, KH, KW, xe, ldx, w, y, ldy);
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
