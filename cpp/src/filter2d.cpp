// 2-D filtering entry point: validates the geometry, extends each plane past its edges by the
// boundary rule into a scratch buffer, and hands that padded plane to the active ISA's kernel.
// Semantics: cnnkit/filter2d.hpp.
#include "cnnkit/filter2d.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "cnnkit/parallel.hpp"
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

// Padded row of width PW whose column c reads column c - pad_left of `row`, or `fill` when row
// is null (a row above or below the plane under kFill) or the column is outside under kFill.
template <typename T>
void extend_row(const Filter2dGeometry& g, const T* row, T fill, Index PW, T* out) {
  if (row == nullptr) {
    std::fill(out, out + PW, fill);
    return;
  }
  const Index inside_begin = std::clamp(g.pad_left, Index(0), PW);
  const Index inside_end = std::clamp(g.pad_left + g.W, Index(0), PW);
  std::memcpy(out + inside_begin, row + (inside_begin - g.pad_left),
              sizeof(T) * (inside_end - inside_begin));
  auto outside = [&](Index c) {
    return g.boundary == Boundary::kFill ? fill : row[extend_index(c - g.pad_left, g.W, g.boundary)];
  };
  for (Index c = 0; c < inside_begin; ++c) out[c] = outside(c);
  for (Index c = inside_end; c < PW; ++c) out[c] = outside(c);
}

}  // namespace

template <typename T>
void filter2d(const Filter2dGeometry& g, const T* x, const T* w, T fill, T* y) {
  const Index PH = g.OH + g.KH - 1, PW = g.OW + g.KW - 1;
  std::vector<T> padded(static_cast<size_t>(PH * PW));
  for (Index p = 0; p < g.P; ++p) {
    const T* plane = x + p * g.H * g.W;
    parallel_for(PH, [&](Index begin, Index end, int) {
      for (Index r = begin; r < end; ++r) {
        Index source = r - g.pad_top;
        if (source < 0 || source >= g.H)
          source = g.boundary == Boundary::kFill ? -1 : extend_index(source, g.H, g.boundary);
        extend_row(g, source < 0 ? nullptr : plane + source * g.W, fill, PW,
                   padded.data() + r * PW);
      }
    });
    active_kernels<T>().filter2d(g.OH, g.OW, g.KH, g.KW, padded.data(), w,
                                 y + p * g.OH * g.OW);
  }
}

template void filter2d<float>(const Filter2dGeometry&, const float*, const float*, float, float*);
template void filter2d<double>(const Filter2dGeometry&, const double*, const double*, double,
                               double*);

}  // namespace cnnkit
