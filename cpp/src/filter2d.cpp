// 2-D filtering entry point: validates the geometry, then splits the output into bands of rows
// (and chunks of columns, so that one long row, a 1-D signal, still splits). Where a band's
// windows lie inside the plane the active ISA's kernel reads the plane in place; near the edges
// the work item first copies the input those outputs read, extended past the edges by the
// boundary rule, into a small per-thread buffer from the thread's workspace arena. No padded copy
// of the whole plane is made.
// Semantics: cnnkit/filter2d.hpp.
#include "cnnkit/filter2d.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "cnnkit/denormals.hpp"
#include "cnnkit/parallel.hpp"
#include "cnnkit/workspace.hpp"
#include "kernels/kernel_table.hpp"

namespace cnnkit {

Boundary parse_boundary(const std::string& boundary) {
  if (boundary == "fill") return Boundary::kFill;
  if (boundary == "wrap") return Boundary::kWrap;
  if (boundary == "symm") return Boundary::kSymm;
  CNNKIT_CHECK(false, "boundary must be 'fill', 'wrap' or 'symm', got '" << boundary << "'");
}

Filter2dGeometry make_filter2d_geometry(Index P, Index H, Index W, Index KH, Index KW, Index OH,
                                        Index OW, Index pad_top, Index pad_left,
                                        Boundary boundary) {
  CNNKIT_CHECK(P >= 1 && H >= 1 && W >= 1,
               "filter2d: the image must not be empty, got planes=" << P << ", H=" << H
                                                                    << ", W=" << W);
  CNNKIT_CHECK(KH >= 1 && KW >= 1,
               "filter2d: the kernel must not be empty, got (" << KH << ", " << KW << ")");
  CNNKIT_CHECK(OH >= 1 && OW >= 1,
               "filter2d: the output must not be empty, got (" << OH << ", " << OW << ")");
  CNNKIT_CHECK(pad_top >= 0 && pad_left >= 0,
               "filter2d: pads must be >= 0, got (" << pad_top << ", " << pad_left << ")");
  // The padded plane (OH+KH-1, OW+KW-1) and every array must be indexable.
  const Index limit = std::numeric_limits<Index>::max() / 4;
  const Index PH = OH + KH - 1, PW = OW + KW - 1;
  CNNKIT_CHECK(OH < limit / 2 && OW < limit / 2 && KH < limit / 2 && KW < limit / 2 &&
                   PH <= limit / PW && P <= limit / (H * W) && P <= limit / (OH * OW) &&
                   KH <= limit / KW,
               "filter2d: sizes too large: planes=" << P << ", image (" << H << ", " << W
                                                    << "), kernel (" << KH << ", " << KW
                                                    << "), output (" << OH << ", " << OW << ")");
  return Filter2dGeometry{P, H, W, KH, KW, OH, OW, pad_top, pad_left, boundary};
}

namespace {

// The in-plane index that index i of an axis of length n reads (wrap or symm), closed form.
Index extend_index(Index i, Index n, Boundary boundary) {
  if (boundary == Boundary::kWrap) return ((i % n) + n) % n;
  const Index k = (i >= 0 ? i : -i - 1) % (2 * n);  // symm has period 2n, mirrored about -1/2
  return k < n ? k : 2 * n - 1 - k;
}

constexpr Index kBandRows = 32;     // output rows of a work item
constexpr Index kChunkCols = 2048;  // output columns of a work item
// Below this many multiply-adds a call runs on the calling thread: waking the other threads
// would cost more than the work (a 28x28 image with a 3x3 kernel is 7056).
constexpr Index kParallelMinWork = Index(1) << 17;

// Padded columns [c0, c1) of a padded row, written to out[0, c1 - c0): column c reads column
// c - pad_left of `row`, extended by the boundary rule; all `fill` when row is null (a row
// above or below the plane under kFill).
template <typename T>
void extend_row(const Filter2dGeometry& g, const T* row, T fill, Index c0, Index c1, T* out) {
  if (row == nullptr) {
    std::fill(out, out + (c1 - c0), fill);
    return;
  }
  const Index inside_begin = std::clamp(g.pad_left, c0, c1);
  const Index inside_end = std::clamp(g.pad_left + g.W, c0, c1);
  std::memcpy(out + (inside_begin - c0), row + (inside_begin - g.pad_left),
              sizeof(T) * (inside_end - inside_begin));
  auto outside = [&](Index c) {
    if (g.boundary == Boundary::kFill) return fill;
    return row[extend_index(c - g.pad_left, g.W, g.boundary)];
  };
  for (Index c = c0; c < inside_begin; ++c) out[c - c0] = outside(c);
  for (Index c = inside_end; c < c1; ++c) out[c - c0] = outside(c);
}

}  // namespace

template <typename T>
void filter2d(const Filter2dGeometry& g, const T* x, const T* w, T fill, T* y) {
  const FlushDenormals flush;  // for the serial path; parallel_for does it on its threads
  const Index bands = (g.OH + kBandRows - 1) / kBandRows;
  const Index chunks = (g.OW + kChunkCols - 1) / kChunkCols;
  const Index buffer_cols = std::min(kChunkCols, g.OW) + g.KW - 1;
  const Index buffer_rows = std::min(kBandRows, g.OH) + g.KH - 1;
  auto run = [&](Index begin, Index end, int) {
    // Left uninitialised: every element the kernel reads is written by extend_row first.
    const Buffer<T> band(buffer_rows * buffer_cols);
    for (Index item = begin; item < end; ++item) {
      const Index p = item / (bands * chunks), i0 = (item / chunks) % bands * kBandRows;
      const Index rows = std::min(kBandRows, g.OH - i0);
      const Index j0 = item % chunks * kChunkCols, j1 = std::min(j0 + kChunkCols, g.OW);
      const T* plane = x + p * g.H * g.W;
      T* out = y + (p * g.OH + i0) * g.OW;
      // Output columns [c0, c1) of the band, from an extended copy of the input they read.
      auto from_copy = [&](Index c0, Index c1) {
        const Index ldx = c1 - c0 + g.KW - 1;
        for (Index r = 0; r < rows + g.KH - 1; ++r) {
          Index source = i0 + r - g.pad_top;
          if (source < 0 || source >= g.H)
            source = g.boundary == Boundary::kFill ? -1 : extend_index(source, g.H, g.boundary);
          extend_row(g, source < 0 ? nullptr : plane + source * g.W, fill, c0, c1 + g.KW - 1,
                     band.data() + r * ldx);
        }
        active_kernels<T>().filter2d(rows, c1 - c0, g.KH, g.KW, band.data(), ldx, w, out + c0,
                                     g.OW);
      };
      const Index top = i0 - g.pad_top;  // the first input row the band reads
      if (top < 0 || top + rows + g.KH - 1 > g.H) {
        from_copy(j0, j1);
        continue;
      }
      // The band's rows are inside the plane: the output columns whose windows are inside it
      // too read the plane in place; only columns near the left and right edges need a copy.
      const Index inside_begin = std::clamp(g.pad_left, j0, j1);
      const Index inside_end = std::clamp(g.pad_left + g.W - g.KW + 1, inside_begin, j1);
      if (inside_begin > j0) from_copy(j0, inside_begin);
      if (inside_end > inside_begin)
        active_kernels<T>().filter2d(rows, inside_end - inside_begin, g.KH, g.KW,
                                     plane + top * g.W + (inside_begin - g.pad_left), g.W, w,
                                     out + inside_begin, g.OW);
      if (j1 > inside_end) from_copy(inside_end, j1);
    }
  };
  const Index items = g.P * bands * chunks;
  if (g.P * g.OH * g.OW < kParallelMinWork / (g.KH * g.KW))  // no overflow: KH*KW fits
    run(0, items, 0);
  else
    parallel_for(items, run);
}

template void filter2d<float>(const Filter2dGeometry&, const float*, const float*, float, float*);
template void filter2d<double>(const Filter2dGeometry&, const double*, const double*, double,
                               double*);

}  // namespace cnnkit
