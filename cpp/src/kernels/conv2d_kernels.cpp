// Tiled, parallel 2-D convolution: forward, backward-input and backward-kernel side by side.
// Formulas and shapes: cnnkit/conv2d.hpp. Compiled once per ISA (CNNKIT_ISA namespace).
//
// Forward and backward-input run the same micro-kernel (tile.hpp): backward-input is a
// convolution of dy with the kernel's channel roles swapped, where taps that the stride skips
// read nothing. Backward-kernel reduces over pixels into thread-private buffers that are summed
// in a fixed order, so results are bitwise reproducible for a given thread count.
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "cnnkit/geometry.hpp"
#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"
#include "kernels/tile.hpp"

namespace {

// wp[ob][tap][r][kBlock] = w[tap][r][o] for o = ob*kBlock + lane (zero past `outs`), where the
// kernel is viewed as (taps, R, outs) when `swap` is false and (taps, outs, R) when true.
template <typename T>
void pack_blocks(const T* w, Index taps, Index R, Index outs, bool swap, T* wp) {
  constexpr Index B = Tile<T>::kBlock;
  const Index nob = ceil_div(outs, B);
  parallel_for(nob * taps, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index ob = item / taps, t = item % taps;
      T* dst = wp + item * R * B;
      for (Index r = 0; r < R; ++r)
        for (Index i = 0; i < B; ++i) {
          const Index o = ob * B + i;
          dst[r * B + i] = o < outs ? (swap ? w[(t * outs + o) * R + r] : w[(t * R + r) * outs + o])
                                    : T(0);
        }
    }
  });
}

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, bool relu,
                    T* y) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  const Index taps = g.KH * g.KW, nob = ceil_div(g.OC, B);
  Buffer<T> wp(nob * taps * g.C * B), bias(nob * B), zeros(g.C);
  pack_blocks(w, taps, g.C, g.OC, false, wp.data());
  for (Index o = 0; o < nob * B; ++o) bias.data()[o] = (b != nullptr && o < g.OC) ? b[o] : T(0);
  std::memset(zeros.data(), 0, sizeof(T) * g.C);

  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      for (Index ob = 0; ob < nob; ++ob) {
        const T* wblock = wp.data() + ob * taps * g.C * B;
        for (Index ow0 = 0; ow0 < g.OW; ow0 += K::kPixels) {
          with_rows(int(min_index(K::kPixels, g.OW - ow0)), [&](auto np) {
            constexpr int NP = decltype(np)::value;
            typename K::Vec acc[NP][K::kVecs];
            K::template init<NP>(bias.data() + ob * B, acc);
            K::template accumulate<NP>(taps, g.C, wblock, zeros.data(), [&](Index t, int p) -> const T* {
              const Index ih = oh * g.SH - g.pad_top + (t / g.KW) * g.DH;
              const Index iw = (ow0 + p) * g.SW - g.pad_left + (t % g.KW) * g.DW;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return nullptr;
              return x + ((n * g.H + ih) * g.W + iw) * g.C;
            }, acc);
            K::template store<NP>(acc, min_index(B, g.OC - ob * B), relu,
                                  y + ((n * g.OH + oh) * g.OW + ow0) * g.OC + ob * B, g.OC);
          });
        }
      }
    }
  });
}

template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  const Index taps = g.KH * g.KW, ncb = ceil_div(g.C, B);
  Buffer<T> wp(ncb * taps * g.OC * B), zeros(g.OC);
  pack_blocks(w, taps, g.OC, g.C, true, wp.data());
  std::memset(zeros.data(), 0, sizeof(T) * g.OC);

  // Output row oh (or column) that reads input index i at kernel offset k; -1 if none.
  auto source = [](Index i, Index pad, Index k, Index d, Index s, Index limit) -> Index {
    const Index t = i + pad - k * d;
    if (t < 0 || t % s != 0 || t / s >= limit) return -1;
    return t / s;
  };
  parallel_for(g.N * g.H, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.H, ih = item % g.H;
      for (Index cb = 0; cb < ncb; ++cb) {
        const T* wblock = wp.data() + cb * taps * g.OC * B;
        for (Index iw0 = 0; iw0 < g.W; iw0 += K::kPixels) {
          with_rows(int(min_index(K::kPixels, g.W - iw0)), [&](auto np) {
            constexpr int NP = decltype(np)::value;
            typename K::Vec acc[NP][K::kVecs];
            K::template init<NP>(nullptr, acc);
            K::template accumulate<NP>(taps, g.OC, wblock, zeros.data(), [&](Index t, int p) -> const T* {
              const Index oh = source(ih, g.pad_top, t / g.KW, g.DH, g.SH, g.OH);
              const Index ow = source(iw0 + p, g.pad_left, t % g.KW, g.DW, g.SW, g.OW);
              if (oh < 0 || ow < 0) return nullptr;
              return dy + ((n * g.OH + oh) * g.OW + ow) * g.OC;
            }, acc);
            K::template store<NP>(acc, min_index(B, g.C - cb * B), false,
                                  dx + ((n * g.H + ih) * g.W + iw0) * g.C + cb * B, g.C);
          });
        }
      }
    }
  });
}

// dw tile: NP input channels x one block of output channels, reduced over the output pixels of
// rows [row_begin, row_end) (a row is one (n, oh)) at tap (kh, kw). dyp has ocp channels a pixel.
template <typename T, int NP>
inline void kernel_tile(const Conv2dGeometry& g, const T* x, const T* dyp, Index ocp, Index row_begin,
                        Index row_end, Index kh, Index kw, Index c0, Index ob, T* acc_out) {
  using K = Tile<T>;
  using S = Simd<T>;
  typename K::Vec acc[NP][K::kVecs];
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < K::kVecs; ++j) acc[p][j] = S::load(acc_out + p * ocp + j * S::kLanes);
  for (Index row = row_begin; row < row_end; ++row) {
    const Index n = row / g.OH, oh = row % g.OH;
    const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
    if (ih < 0 || ih >= g.H) continue;
    const T* xrow = x + (n * g.H + ih) * g.W * g.C + c0;
    const T* dyrow = dyp + row * g.OW * ocp + ob * K::kBlock;
    for (Index ow = 0; ow < g.OW; ++ow) {
      const Index iw = ow * g.SW - g.pad_left + kw * g.DW;
      if (iw < 0 || iw >= g.W) continue;
      const T* xs = xrow + iw * g.C;
      typename K::Vec d[K::kVecs];
      for (int j = 0; j < K::kVecs; ++j) d[j] = S::load(dyrow + ow * ocp + j * S::kLanes);
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p) {
        const typename K::Vec xv = S::broadcast(xs[p]);
        for (int j = 0; j < K::kVecs; ++j) acc[p][j] += xv * d[j];
      }
    }
  }
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < K::kVecs; ++j) S::store(acc_out + p * ocp + j * S::kLanes, acc[p][j]);
}

template <typename T>
void conv2d_backward_kernel(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* db) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  const Index taps = g.KH * g.KW, nob = ceil_div(g.OC, B), ocp = nob * B;
  const Index rows = g.N * g.OH, pixels = rows * g.OW;
  const Index nthreads = min_index(get_num_threads(), rows > 0 ? rows : 1);
  const Index per_thread = taps * g.C * ocp + ocp;  // private dw, then db

  // dy with its channels padded to whole blocks, so every vector load stays in bounds.
  const bool padded = ocp != g.OC;
  Buffer<T> dy_padded(padded ? pixels * ocp : 0);
  if (padded) {
    parallel_for(pixels, [&](Index begin, Index end, int) {
      for (Index p = begin; p < end; ++p)
        for (Index o = 0; o < ocp; ++o)
          dy_padded.data()[p * ocp + o] = o < g.OC ? dy[p * g.OC + o] : T(0);
    });
  }
  const T* dyp = padded ? dy_padded.data() : dy;

  Buffer<T> partial(nthreads * per_thread);
  std::memset(partial.data(), 0, sizeof(T) * nthreads * per_thread);
  // Rows per chunk: enough pixels to amortise loading the accumulators, few enough to stay in cache.
  const Index chunk = g.OW >= 64 ? 1 : 64 / g.OW;

  parallel_for(rows, [&](Index begin, Index end, int thread) {
    T* dw_t = partial.data() + thread * per_thread;
    T* db_t = dw_t + taps * g.C * ocp;
    for (Index r0 = begin; r0 < end; r0 += chunk) {
      const Index r1 = min_index(end, r0 + chunk);
      for (Index t = 0; t < taps; ++t)
        for (Index c0 = 0; c0 < g.C; c0 += K::kPixels)
          for (Index ob = 0; ob < nob; ++ob)
            with_rows(int(min_index(K::kPixels, g.C - c0)), [&](auto np) {
              kernel_tile<T, decltype(np)::value>(g, x, dyp, ocp, r0, r1, t / g.KW, t % g.KW, c0,
                                                  ob, dw_t + (t * g.C + c0) * ocp + ob * B);
            });
      for (Index p = r0 * g.OW; p < r1 * g.OW; ++p)
        for (Index o = 0; o < ocp; ++o) db_t[o] += dyp[p * ocp + o];
    }
  });

  // Fixed-order reduction of the thread-private buffers into dw and db.
  parallel_for(taps * g.C + 1, [&](Index begin, Index end, int) {
    for (Index row = begin; row < end; ++row) {
      T* out = row < taps * g.C ? dw + row * g.OC : db;
      if (out == nullptr) continue;
      for (Index o = 0; o < g.OC; ++o) {
        T sum = partial.data()[row * ocp + o];
        for (Index t = 1; t < nthreads; ++t) sum += partial.data()[t * per_thread + row * ocp + o];
        out[o] = sum;
      }
    }
  });
}

}  // namespace

template <typename T>
void fill_conv2d_kernels(KernelSet<T>* set) {
  set->conv2d_forward = &conv2d_forward<T>;
  set->conv2d_backward_input = &conv2d_backward_input<T>;
  set->conv2d_backward_kernel = &conv2d_backward_kernel<T>;
}
template void fill_conv2d_kernels<float>(KernelSet<float>*);
template void fill_conv2d_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
