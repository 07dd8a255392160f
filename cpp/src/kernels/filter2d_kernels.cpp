// Vectorised 2-D correlation of a padded band of rows with a small kernel, one copy per ISA.
//
//   xe (rows+KH-1, OW+KW-1) padded band, w (KH, KW), y (rows, OW):
//   y[i, j] = sum_{a, b} w[a, b] * xe[i + a, j + b]
//
// Vectors run along the output row, loaded unaligned from the padded rows at each column
// offset b, so no data is rearranged. A tile is R output rows x U vectors: each input vector
// loaded feeds every output row of the tile whose window covers it (up to min(R, KH) FMAs a
// load, instead of one), which matters because most of these loads straddle cache lines. The
// common 3x3, 5x5 and 7x7 kernels get fully unrolled tiles; any other size runs one row at a
// time with run-time loops. Weights are broadcast once per call. The kernel is serial:
// filter2d.cpp pads bands small enough to stay in cache and runs them in parallel.
#include <cstdlib>
#include <cstring>
#include <new>

#include "cnnkit/workspace.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

template <typename T>
using Vec = typename Simd<T>::Vec;

// s in every lane, written lane by lane: the compiler emits a single broadcast instruction.
template <typename T>
inline Vec<T> splat(T s) {
  Vec<T> v;
  for (int i = 0; i < Simd<T>::kLanes; ++i) v[i] = s;
  return v;
}

// Output rows per tile, and vectors per tile row: R * U accumulators plus U loaded vectors fit
// the 32 vector registers of AVX-512 or the 16 of SSE / AVX2.
constexpr int kTileRows = 4;
constexpr int kTileVecs = CNNKIT_VEC_BYTES == 64 ? 4 : 2;

// A tile of R rows x U vectors at xe / out for a KH x KW kernel known at compile time.
// Kernel column b adds xe[r, j + b] * w[r - i, b] into output row i for every input row r of
// the tile. With every column unrolled the compiler keeps all the broadcast weights in
// registers, which fits a 3x3 kernel; larger ones loop over the columns so that only one
// column's KH weights are live next to the R * U accumulators.
template <typename T, int R, int U, int KH, int KW>
inline void fixed_tile(const T* xe, Index ldx, const T* w, T* out, Index ldy) {
  using S = Simd<T>;
  Vec<T> acc[R][U];
  for (int i = 0; i < R; ++i)
    for (int u = 0; u < U; ++u) acc[i][u] = S::zero();
  auto column = [&](int b) {
#pragma GCC unroll 16
    for (int r = 0; r < R + KH - 1; ++r) {
      Vec<T> v[U];
      for (int u = 0; u < U; ++u) v[u] = S::load(xe + r * ldx + b + u * S::kLanes);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const int a = r - i;  // kernel row that input row r meets in output row i
        if (a < 0 || a >= KH) continue;
        const Vec<T> weight = splat(w[a * KW + b]);
        for (int u = 0; u < U; ++u) acc[i][u] += weight * v[u];
      }
    }
  };
  if constexpr (KH * KW <= 9) {
#pragma GCC unroll 8
    for (int b = 0; b < KW; ++b) column(b);
  } else {
#pragma GCC unroll 1
    for (int b = 0; b < KW; ++b) column(b);
  }
  for (int i = 0; i < R; ++i)
    for (int u = 0; u < U; ++u) S::store(out + i * ldy + u * S::kLanes, acc[i][u]);
}

// One output row, U vectors, for a kernel of any size.
template <typename T, int U>
inline void any_tile(const T* xe, Index ldx, Index KH, Index KW, const Vec<T>* wv, T* out) {
  using S = Simd<T>;
  Vec<T> acc[U];
  for (int u = 0; u < U; ++u) acc[u] = S::zero();
  for (Index a = 0; a < KH; ++a)
    for (Index b = 0; b < KW; ++b) {
      const T* x = xe + a * ldx + b;
      for (int u = 0; u < U; ++u) acc[u] += wv[a * KW + b] * S::load(x + u * S::kLanes);
    }
  for (int u = 0; u < U; ++u) S::store(out + u * S::kLanes, acc[u]);
}

// Output columns [j, OW) of rows [0, R) in a row narrower than one vector: plain loops.
template <typename T>
void scalar_columns(Index R, Index j, Index OW, Index KH, Index KW, const T* xe, Index ldx,
                    const T* w, T* y, Index ldy) {
  for (Index i = 0; i < R; ++i)
    for (Index c = j; c < OW; ++c) {
      T sum = 0;
      for (Index a = 0; a < KH; ++a)
        for (Index b = 0; b < KW; ++b) sum += w[a * KW + b] * xe[(i + a) * ldx + c + b];
      y[i * ldy + c] = sum;
    }
}

// R output rows of a fixed-size kernel: full tiles, then single vectors, then the remaining
// columns as one more vector ending at the last column, or as scalars in a row narrower than a
// vector.
template <typename T, int R, int KH, int KW>
void fixed_rows(Index OW, const T* xe, Index ldx, const T* w, T* y, Index ldy) {
  constexpr Index kLanes = Simd<T>::kLanes, kBlock = kTileVecs * kLanes;
  Index j = 0;
  for (; j + kBlock <= OW; j += kBlock)
    fixed_tile<T, R, kTileVecs, KH, KW>(xe + j, ldx, w, y + j, ldy);
  for (; j + kLanes <= OW; j += kLanes) fixed_tile<T, R, 1, KH, KW>(xe + j, ldx, w, y + j, ldy);
  if (j < OW && OW >= kLanes)  // the last vector again, overlapping: same sums, same bits
    fixed_tile<T, R, 1, KH, KW>(xe + OW - kLanes, ldx, w, y + OW - kLanes, ldy);
  else
    scalar_columns(R, j, OW, KH, KW, xe, ldx, w, y, ldy);
}

template <typename T, int KH, int KW>
void filter2d_fixed(Index rows, Index OW, const T* xe, Index ldx, const T* w, T* y, Index ldy) {
  Index i = 0;
  for (; i + kTileRows <= rows; i += kTileRows)
    fixed_rows<T, kTileRows, KH, KW>(OW, xe + i * ldx, ldx, w, y + i * ldy, ldy);
  for (; i < rows; ++i) fixed_rows<T, 1, KH, KW>(OW, xe + i * ldx, ldx, w, y + i * ldy, ldy);
}

template <typename T>
void filter2d_any(Index rows, Index OW, Index KH, Index KW, const T* xe, Index ldx, const T* w,
                  T* y, Index ldy) {
  constexpr Index kLanes = Simd<T>::kLanes, kBlock = kTileVecs * kLanes;
  Buffer<Vec<T>> wv(KH * KW);
  for (Index t = 0; t < KH * KW; ++t) wv.data()[t] = splat(w[t]);
  for (Index i = 0; i < rows; ++i) {
    const T* xrow = xe + i * ldx;
    T* out = y + i * ldy;
    Index j = 0;
    for (; j + kBlock <= OW; j += kBlock)
      any_tile<T, kTileVecs>(xrow + j, ldx, KH, KW, wv.data(), out + j);
    for (; j + kLanes <= OW; j += kLanes) any_tile<T, 1>(xrow + j, ldx, KH, KW, wv.data(), out + j);
    if (j < OW && OW >= kLanes)  // the last vector again, overlapping: same sums, same bits
      any_tile<T, 1>(xrow + OW - kLanes, ldx, KH, KW, wv.data(), out + OW - kLanes);
    else
      scalar_columns(1, j, OW, KH, KW, xrow, ldx, w, out, ldy);
  }
}

template <typename T>
void filter2d(Index rows, Index OW, Index KH, Index KW, const T* xe, Index ldx, const T* w, T* y,
              Index ldy) {
  if (KH == 3 && KW == 3) return filter2d_fixed<T, 3, 3>(rows, OW, xe, ldx, w, y, ldy);
  if (KH == 5 && KW == 5) return filter2d_fixed<T, 5, 5>(rows, OW, xe, ldx, w, y, ldy);
  if (KH == 7 && KW == 7) return filter2d_fixed<T, 7, 7>(rows, OW, xe, ldx, w, y, ldy);
  filter2d_any(rows, OW, KH, KW, xe, ldx, w, y, ldy);
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
