// Max and average pooling, forward and backward, vectorised over the contiguous channels of
// NHWC. Semantics: cnnkit/pool2d.hpp. Compiled once per ISA (CNNKIT_ISA namespace).
//
// Backward kernels scatter into dx; work items are (image, channel block), so overlapping
// windows (stride < pool) never write the same element from two threads.
#include <cstdlib>
#include <cstring>
#include <new>

#include "cnnkit/geometry.hpp"
#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

constexpr Index kChannelBlock = 64;  // channels of one backward work item

// The window of output (oh, ow) clipped to the image: rows [h0, h1), columns [w0, w1).
struct Window {
  Index h0, h1, w0, w1;
};
inline Window window_at(const Conv2dGeometry& g, Index oh, Index ow) {
  const Index h = oh * g.SH - g.pad_top, w = ow * g.SW - g.pad_left;
  return {h < 0 ? 0 : h, min_index(h + g.KH, g.H), w < 0 ? 0 : w, min_index(w + g.KW, g.W)};
}

// best wins over v unless v is larger, or v is the first NaN (NaN propagates, as in PyTorch).
template <typename T>
inline bool replaces(T v, T best) {
  return v > best || (v != v && best == best);
}

template <typename T>
void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y) {
  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      for (Index ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        T* out = y + ((n * g.OH + oh) * g.OW + ow) * g.C;
        std::memcpy(out, x + ((n * g.H + win.h0) * g.W + win.w0) * g.C, sizeof(T) * g.C);
        for (Index ih = win.h0; ih < win.h1; ++ih)
          for (Index iw = win.w0; iw < win.w1; ++iw) {
            const T* in = x + ((n * g.H + ih) * g.W + iw) * g.C;
            for (Index c = 0; c < g.C; ++c) out[c] = replaces(in[c], out[c]) ? in[c] : out[c];
          }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const Conv2dGeometry& g, const T* x, const T* dy, T* dx) {
  const Index ncb = ceil_div(g.C, kChannelBlock);
  parallel_for(g.N * ncb, [&](Index begin, Index end, int) {
    T best[kChannelBlock];
    Index arg[kChannelBlock];  // element offset of each channel's winner within the image
    for (Index item = begin; item < end; ++item) {
      const Index n = item / ncb, c0 = (item % ncb) * kChannelBlock;
      const Index cn = min_index(kChannelBlock, g.C - c0);
      const T* xn = x + n * g.H * g.W * g.C + c0;
      T* dxn = dx + n * g.H * g.W * g.C + c0;
      for (Index p = 0; p < g.H * g.W; ++p)
        for (Index c = 0; c < cn; ++c) dxn[p * g.C + c] = T(0);
      for (Index oh = 0; oh < g.OH; ++oh)
        for (Index ow = 0; ow < g.OW; ++ow) {
          const Window win = window_at(g, oh, ow);
          const Index first = (win.h0 * g.W + win.w0) * g.C;
          for (Index c = 0; c < cn; ++c) {
            best[c] = xn[first + c];
            arg[c] = first;
          }
          for (Index ih = win.h0; ih < win.h1; ++ih)
            for (Index iw = win.w0; iw < win.w1; ++iw) {
              const Index offset = (ih * g.W + iw) * g.C;
              for (Index c = 0; c < cn; ++c) {
                const bool win_here = replaces(xn[offset + c], best[c]);
                best[c] = win_here ? xn[offset + c] : best[c];
                arg[c] = win_here ? offset : arg[c];
              }
            }
          const T* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.C + c0;
          for (Index c = 0; c < cn; ++c) dxn[arg[c] + c] += d[c];
        }
    }
  });
}

template <typename T>
void avg_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y) {
  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      for (Index ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        T* out = y + ((n * g.OH + oh) * g.OW + ow) * g.C;
        for (Index c = 0; c < g.C; ++c) out[c] = T(0);
        for (Index ih = win.h0; ih < win.h1; ++ih)
          for (Index iw = win.w0; iw < win.w1; ++iw) {
            const T* in = x + ((n * g.H + ih) * g.W + iw) * g.C;
            for (Index c = 0; c < g.C; ++c) out[c] += in[c];
          }
        const T scale = T(1) / T((win.h1 - win.h0) * (win.w1 - win.w0));
        for (Index c = 0; c < g.C; ++c) out[c] *= scale;
      }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const Conv2dGeometry& g, const T* dy, T* dx) {
  const Index ncb = ceil_div(g.C, kChannelBlock);
  parallel_for(g.N * ncb, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / ncb, c0 = (item % ncb) * kChannelBlock;
      const Index cn = min_index(kChannelBlock, g.C - c0);
      T* dxn = dx + n * g.H * g.W * g.C + c0;
      for (Index p = 0; p < g.H * g.W; ++p)
        for (Index c = 0; c < cn; ++c) dxn[p * g.C + c] = T(0);
      for (Index oh = 0; oh < g.OH; ++oh)
        for (Index ow = 0; ow < g.OW; ++ow) {
          const Window win = window_at(g, oh, ow);
          const T scale = T(1) / T((win.h1 - win.h0) * (win.w1 - win.w0));
          const T* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.C + c0;
          for (Index ih = win.h0; ih < win.h1; ++ih)
            for (Index iw = win.w0; iw < win.w1; ++iw) {
              T* out = dxn + (ih * g.W + iw) * g.C;
              for (Index c = 0; c < cn; ++c) out[c] += d[c] * scale;
            }
        }
    }
  });
}

}  // namespace

template <typename T>
void fill_pool2d_kernels(KernelSet<T>* set) {
  set->max_pool2d_forward = &max_pool2d_forward<T>;
  set->max_pool2d_backward = &max_pool2d_backward<T>;
  set->avg_pool2d_forward = &avg_pool2d_forward<T>;
  set->avg_pool2d_backward = &avg_pool2d_backward<T>;
}
template void fill_pool2d_kernels<float>(KernelSet<float>*);
template void fill_pool2d_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
