// Direct-loop pooling: the oracle for the vectorised kernels. Semantics: cnnkit/pool2d.hpp.
#include "cnnkit/pool2d.hpp"

#include <cmath>

namespace cnnkit {
namespace {

// Calls f(ih, iw) for each in-image cell of the window of output (oh, ow), row-major order.
template <typename F>
void for_window(const Conv2dGeometry& g, Index oh, Index ow, F&& f) {
  for (Index kh = 0; kh < g.KH; ++kh)
    for (Index kw = 0; kw < g.KW; ++kw) {
      const Index ih = oh * g.SH - g.pad_top + kh, iw = ow * g.SW - g.pad_left + kw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) f(ih, iw);
    }
}

// Offset in x of the max of a window at channel c: first maximum, or the first NaN.
template <typename T>
Index argmax(const Conv2dGeometry& g, const T* x, Index n, Index oh, Index ow, Index c) {
  Index best = -1;
  for_window(g, oh, ow, [&](Index ih, Index iw) {
    const Index at = ((n * g.H + ih) * g.W + iw) * g.C + c;
    if (best < 0) {
      best = at;
    } else if (!std::isnan(x[best]) && (std::isnan(x[at]) || x[at] > x[best])) {
      best = at;
    }
  });
  return best;
}

}  // namespace

template <typename T>
void max_pool2d_forward_ref(const Conv2dGeometry& g, const T* x, T* y) {
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index c = 0; c < g.C; ++c)
          y[((n * g.OH + oh) * g.OW + ow) * g.C + c] = x[argmax(g, x, n, oh, ow, c)];
}

template <typename T>
void max_pool2d_backward_ref(const Conv2dGeometry& g, const T* x, const T* dy, T* dx) {
  for (Index i = 0; i < g.N * g.H * g.W * g.C; ++i) dx[i] = T(0);
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index c = 0; c < g.C; ++c)
          dx[argmax(g, x, n, oh, ow, c)] += dy[((n * g.OH + oh) * g.OW + ow) * g.C + c];
}

template <typename T>
void avg_pool2d_forward_ref(const Conv2dGeometry& g, const T* x, T* y) {
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index c = 0; c < g.C; ++c) {
          double sum = 0;
          Index count = 0;
          for_window(g, oh, ow, [&](Index ih, Index iw) {
            sum += double(x[((n * g.H + ih) * g.W + iw) * g.C + c]);
            ++count;
          });
          y[((n * g.OH + oh) * g.OW + ow) * g.C + c] = T(sum / double(count));
        }
}

template <typename T>
void avg_pool2d_backward_ref(const Conv2dGeometry& g, const T* dy, T* dx) {
  for (Index i = 0; i < g.N * g.H * g.W * g.C; ++i) dx[i] = T(0);
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index c = 0; c < g.C; ++c) {
          Index count = 0;
          for_window(g, oh, ow, [&](Index, Index) { ++count; });
          const double share = double(dy[((n * g.OH + oh) * g.OW + ow) * g.C + c]) / double(count);
          for_window(g, oh, ow, [&](Index ih, Index iw) {
            dx[((n * g.H + ih) * g.W + iw) * g.C + c] += T(share);
          });
        }
}

#define CNNKIT_INSTANTIATE(T)                                                              \
  template void max_pool2d_forward_ref<T>(const Conv2dGeometry&, const T*, T*);            \
  template void max_pool2d_backward_ref<T>(const Conv2dGeometry&, const T*, const T*, T*); \
  template void avg_pool2d_forward_ref<T>(const Conv2dGeometry&, const T*, T*);            \
  template void avg_pool2d_backward_ref<T>(const Conv2dGeometry&, const T*, T*);
CNNKIT_INSTANTIATE(float)
CNNKIT_INSTANTIATE(double)
#undef CNNKIT_INSTANTIATE

}  // namespace cnnkit
