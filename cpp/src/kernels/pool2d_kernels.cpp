// Max and average pooling, forward and backward, vectorised over the contiguous channels of
// NHWC. Semantics: cnnkit/pool2d.hpp. Compiled once per ISA (CNNKIT_ISA namespace).
//
// Max-pool backward recomputes each window's winner from x (vectorised, one lane per channel)
// and writes dy there. Disjoint windows (stride >= pool) split by output row; overlapping ones by
// (image, channel block), so no element is written from two threads.
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

// The same rule on whole vectors: a lane mask (all ones where v replaces best).
template <typename V>
inline auto replaces_mask(V v, V best) {
  return (v > best) | ((v != v) & (best == best));
}

// Max over the window of output (oh, ow) for channels [c, c + lanes): one vector of x at a time,
// channels in lanes. Calls take(best, winner offsets) with the element offset (relative to the
// image) of each lane's first maximum, or fills only y when arg is not needed.
template <typename T, bool kWithArg, typename Out>
inline void window_max(const Conv2dGeometry& g, const Window& win, const T* xn, Index c, Out&& out) {
  using S = Simd<T>;
  using Mask = decltype(typename S::Vec{} > typename S::Vec{});
  using Lane = decltype(Mask{}[0] + 0);  // int32 for float, int64 for double
  const Index first = (win.h0 * g.W + win.w0) * g.C;
  typename S::Vec best = S::load(xn + first + c);
  Mask arg = Mask{} + Lane(first);
  for (Index ih = win.h0; ih < win.h1; ++ih)
    for (Index iw = win.w0; iw < win.w1; ++iw) {
      const Index offset = (ih * g.W + iw) * g.C;
      const typename S::Vec v = S::load(xn + offset + c);
      const Mask take = replaces_mask(v, best);
      best = take ? v : best;
      if (kWithArg) arg = take ? (Mask{} + Lane(offset)) : arg;
    }
  out(best, arg);
}

template <typename T>
void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y) {
  using S = Simd<T>;
  const Index cv = g.C / S::kLanes * S::kLanes;  // channels handled by whole vectors
  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      const T* xn = x + n * g.H * g.W * g.C;
      for (Index ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        T* out = y + ((n * g.OH + oh) * g.OW + ow) * g.C;
        for (Index c = 0; c < cv; c += S::kLanes)
          window_max<T, false>(g, win, xn, c, [&](auto best, auto) { S::store(out + c, best); });
        if (cv == g.C) continue;
        std::memcpy(out + cv, xn + (win.h0 * g.W + win.w0) * g.C + cv, sizeof(T) * (g.C - cv));
        for (Index ih = win.h0; ih < win.h1; ++ih)
          for (Index iw = win.w0; iw < win.w1; ++iw) {
            const T* in = xn + (ih * g.W + iw) * g.C;
            for (Index c = cv; c < g.C; ++c) out[c] = replaces(in[c], out[c]) ? in[c] : out[c];
          }
      }
    }
  });
}

// The element offset (within the image) of the first maximum of channel c in window win.
template <typename T>
inline Index window_argmax(const Conv2dGeometry& g, const Window& win, const T* xn, Index c) {
  Index arg = (win.h0 * g.W + win.w0) * g.C;
  T best = xn[arg + c];
  for (Index ih = win.h0; ih < win.h1; ++ih)
    for (Index iw = win.w0; iw < win.w1; ++iw) {
      const Index offset = (ih * g.W + iw) * g.C;
      if (replaces(xn[offset + c], best)) {
        best = xn[offset + c];
        arg = offset;
      }
    }
  return arg;
}

// Windows that do not overlap (stride >= window, the usual 2x2/2): each output row owns the
// input rows from its window's top to the next window's top. Every element of a window is
// written once, dy at its winner and zero elsewhere (whole vectors, no scatter); the elements no
// window covers (stride > window, or leftover rows and columns) are zeroed first. No two output
// rows write the same element, so rows run in parallel.
template <typename T>
void max_pool2d_backward_disjoint(const Conv2dGeometry& g, const T* x, const T* dy, T* dx) {
  using S = Simd<T>;
  using Mask = decltype(typename S::Vec{} > typename S::Vec{});
  using Lane = decltype(Mask{}[0] + 0);
  const Index cv = g.C / S::kLanes * S::kLanes;
  auto top = [&](Index oh) { return oh * g.SH - g.pad_top < 0 ? 0 : oh * g.SH - g.pad_top; };
  // Whether a row's windows cover all its columns: adjacent, from column 0 to the last.
  const bool columns_covered = g.SW == g.KW && g.OW > 0 && window_at(g, 0, 0).w0 == 0 &&
                               window_at(g, 0, g.OW - 1).w1 == g.W;
  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      const Index row0 = oh == 0 ? 0 : top(oh), row1 = oh + 1 == g.OH ? g.H : top(oh + 1);
      const T* xn = x + n * g.H * g.W * g.C;
      T* dxn = dx + n * g.H * g.W * g.C;
      const Window first = window_at(g, oh, 0);  // its rows are every window's of this row
      if (!columns_covered || first.h0 != row0 || first.h1 != row1)
        std::memset(dxn + row0 * g.W * g.C, 0, sizeof(T) * (row1 - row0) * g.W * g.C);
      for (Index ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        const T* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.C;
        for (Index c = 0; c < cv; c += S::kLanes)
          window_max<T, true>(g, win, xn, c, [&](auto, Mask arg) {
            const typename S::Vec grad = S::load(d + c);
            for (Index ih = win.h0; ih < win.h1; ++ih)
              for (Index iw = win.w0; iw < win.w1; ++iw) {
                const Index offset = (ih * g.W + iw) * g.C;
                S::store(dxn + offset + c, arg == (Mask{} + Lane(offset)) ? grad : S::zero());
              }
          });
        for (Index c = cv; c < g.C; ++c) {
          const Index arg = window_argmax(g, win, xn, c);
          for (Index ih = win.h0; ih < win.h1; ++ih)
            for (Index iw = win.w0; iw < win.w1; ++iw) {
              const Index offset = (ih * g.W + iw) * g.C;
              dxn[offset + c] = offset == arg ? d[c] : T(0);
            }
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const Conv2dGeometry& g, const T* x, const T* dy, T* dx) {
  // Lane offsets are int32 for float: the disjoint path needs images under 2^31 elements.
  if (g.SH >= g.KH && g.SW >= g.KW && g.H * g.W * g.C < (Index(1) << 31))
    return max_pool2d_backward_disjoint(g, x, dy, dx);
  // Overlapping windows: work items are (image, channel block), so no element has two writers.
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
