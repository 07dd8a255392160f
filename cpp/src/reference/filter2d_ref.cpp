// Direct-loop 2-D filtering: the oracle for the vectorised kernels. Semantics: cnnkit/filter2d.hpp.
//
// The boundary rules are written here as repeated reflection / shifting, independently of the
// closed-form index maps of the production path, so the two check each other.
#include "cnnkit/filter2d.hpp"

namespace cnnkit {
namespace {

// The in-plane index that index i of an axis of length n reads, or -1 for the fill value.
Index extend_index(Index i, Index n, Boundary boundary) {
  if (i >= 0 && i < n) return i;
  if (boundary == Boundary::kFill) return -1;
  while (i < 0 || i >= n) {
    if (boundary == Boundary::kWrap) {
      i += i < 0 ? n : -n;
    } else if (i < 0) {
      i = -i - 1;  // mirror about the left edge, edge pixel repeated: -1 -> 0, -2 -> 1
    } else {
      i = 2 * n - 1 - i;  // mirror about the right edge: n -> n-1, n+1 -> n-2
    }
  }
  return i;
}

}  // namespace

template <typename T>
void filter2d_ref(const Filter2dGeometry& g, const T* x, const T* w, T fill, T* y) {
  for (Index p = 0; p < g.P; ++p)
    for (Index i = 0; i < g.OH; ++i)
      for (Index j = 0; j < g.OW; ++j) {
        double sum = 0;
        for (Index a = 0; a < g.KH; ++a)
          for (Index b = 0; b < g.KW; ++b) {
            const Index r = extend_index(i - g.pad_top + a, g.H, g.boundary);
            const Index c = extend_index(j - g.pad_left + b, g.W, g.boundary);
            const double v = (r < 0 || c < 0) ? double(fill) : double(x[(p * g.H + r) * g.W + c]);
            sum += double(w[a * g.KW + b]) * v;
          }
        y[(p * g.OH + i) * g.OW + j] = T(sum);
      }
}

template void filter2d_ref<float>(const Filter2dGeometry&, const float*, const float*, float,
                                  float*);
template void filter2d_ref<double>(const Filter2dGeometry&, const double*, const double*, double,
                                   double*);

}  // namespace cnnkit
