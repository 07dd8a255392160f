// Tiled, parallel 2-D convolution: forward, backward-input and backward-kernel side by side.
// Formulas and shapes: cnnkit/conv2d.hpp. Compiled once per ISA (CNNKIT_ISA namespace).
//
// Forward and backward-input run the same micro-kernel (tile.hpp): backward-input is a
// convolution of dy with the kernel's channel roles swapped, visited by stride phase so taps
// the stride skips are skipped; with few input channels it goes through per-pixel columns
// instead (conv2d_backward_input_columns), and a pointwise convolution runs as the matrix
// product it is (conv2d_backward_input_pointwise). Forward and backward-kernel reduce over a whole
// kernel row at once where its KW*C inputs are contiguous, which is what keeps first layers
// (C = 1 or 3) busy. Backward-kernel reduces over pixels into thread-private buffers that are
// summed in a fixed order, so results are bitwise reproducible for a given thread count.
#include <algorithm>
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
  const Index taps = g.KH * g.KW, nob = ceil_div(g.OC, B), run = g.KW * g.C;
  Buffer<T> wp(nob * taps * g.C * B), bias(nob * B), zeros(run);
  pack_blocks(w, taps, g.C, g.OC, false, wp.data());
  for (Index o = 0; o < nob * B; ++o) bias.data()[o] = (b != nullptr && o < g.OC) ? b[o] : T(0);
  std::memset(zeros.data(), 0, sizeof(T) * run);

  // Without column dilation, the KW*C inputs one kernel row reads are contiguous in NHWC and so
  // are their packed weights (tap-major): a tile whose windows lie inside the image in width
  // reduces over KH runs of KW*C at once. Step s of that reduction reads offset
  // (s / run) * row_step + s % run from kernel row kh_begin's first input: one flat loop over the
  // steps instead of a loop per kernel row is what first layers need (runs of 3 to 21 inputs;
  // a, c, l forward +6%, +5%, +10%, AVX2).
  const bool runs = g.DW == 1;
  const Index run_steps = runs ? g.KH * run : 0;
  Buffer<Index> image_offset(run_steps), window_offset(run_steps);
  // With few channels a border tile, whose windows leave the image in width, copies its window
  // columns into a zero-padded buffer and reduces over that the same way, rather than tap by tap
  // with C values a step (l's forward +4%, AVX2). With many channels taps reduce over C as well
  // as runs do.
  const bool pad_borders = runs && g.C < B;
  const Index span = (K::kPixels - 1) * g.SW + g.KW;  // columns a tile's windows cover
  for (Index s = 0; s < run_steps; ++s) {
    image_offset.data()[s] = s / run * g.DH * g.W * g.C + s % run;
    window_offset.data()[s] = s / run * span * g.C + s % run;
  }
  // Output blocks per pass over a row's tiles: as many as keep their packed weights within half
  // of L1 (all of a first layer's; l's 7x7x3 kernel, 9 KiB a block, one at a time).
  const Index block_bytes = taps * g.C * B * Index(sizeof(T));
  const Index obs = std::max<Index>(1, (Index(16) << 10) / block_bytes);
  // A tile whose reduction is long fetches its output lines for writing before it starts: stored
  // cold, they filled the store buffer and stalled what followed (l's forward +12% on one
  // AVX-512 Zen 4 thread, whose 11x2 tiles store 22 lines at once). Short reductions (a, c)
  // leave no time to hide the fetch.
  const bool prefetch_out = taps * g.C >= 64;
  parallel_for(g.N * g.OH, [&](Index begin, Index end, int) {
    Buffer<T> window(pad_borders ? g.KH * span * g.C : 0);
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.OH, oh = item % g.OH;
      // Kernel rows [kh_begin, kh_end) read image rows; the others read padding.
      const Index ih0 = oh * g.SH - g.pad_top, last = g.H - 1 - ih0;
      const Index kh_begin = ih0 >= 0 ? 0 : ceil_div(-ih0, g.DH);
      const Index kh_end = last < 0 ? 0 : min_index(g.KH, last / g.DH + 1);
      const Index rows = std::max<Index>(kh_end - kh_begin, 0), steps = rows * run;
      const Index row0 = (n * g.H + ih0 + kh_begin * g.DH) * g.W * g.C;  // kernel row kh_begin
      // Blocks of output channels [ob0, ob0 + obs) of a tile before the next tile: the tile's
      // setup is shared, and with few channels it is a good part of the work (AVX2: a's and
      // c's forward +6% and +18%).
      Index ob0 = 0;
      const auto tile = [&](Index ow0, auto np) {
        constexpr int NP = decltype(np)::value;
        const Index iw_first = ow0 * g.SW - g.pad_left;
        const Index iw_last = (ow0 + NP - 1) * g.SW - g.pad_left + g.KW - 1;
        const bool inside = iw_first >= 0 && iw_last < g.W;
        // Where a flat reduction reads: the image, or the tile's zero-padded window.
        const T* base = nullptr;
        const Index* offset = nullptr;
        if (runs && inside && rows > 0) {
          base = x + row0 + iw_first * g.C;
          offset = image_offset.data();
        } else if (pad_borders) {
          // Columns [lo, hi) of the window lie in the image.
          const Index lo = std::clamp<Index>(-iw_first, 0, span);
          const Index hi = std::clamp<Index>(g.W - iw_first, lo, span);
          for (Index r = 0; r < rows; ++r) {
            T* dst = window.data() + r * span * g.C;
            std::fill(dst, dst + lo * g.C, T(0));
            std::copy_n(x + row0 + (r * g.DH * g.W + iw_first + lo) * g.C, (hi - lo) * g.C,
                        dst + lo * g.C);
            std::fill(dst + hi * g.C, dst + span * g.C, T(0));
          }
          base = window.data();
          offset = window_offset.data();
        }
        const Index next = g.SW * g.C;  // from one pixel's inputs to the next's
        T* out = y + ((n * g.OH + oh) * g.OW + ow0) * g.OC;
        for (Index ob = ob0; ob < min_index(nob, ob0 + obs); ++ob) {
          const T* wblock = wp.data() + ob * taps * g.C * B;
          if (prefetch_out)
            for (int p = 0; p < NP; ++p)
              for (Index i = 0; i < min_index(B, g.OC - ob * B); i += Simd<T>::kLineValues)
                __builtin_prefetch(out + ob * B + p * g.OC + i, 1);
          typename K::Vec acc[NP][K::kVecs];
          K::template init<NP>(bias.data() + ob * B, acc);
          if (base != nullptr) {
            K::template reduce<NP>(steps, wblock + kh_begin * run * B, B, [&](int p, Index s) {
              return base[offset[s] + p * next];
            }, acc);
          } else {
            K::template accumulate<NP>(taps, g.C, wblock, zeros.data(),
                                       [&](Index t, int p) -> const T* {
              const Index ih = oh * g.SH - g.pad_top + (t / g.KW) * g.DH;
              const Index iw = (ow0 + p) * g.SW - g.pad_left + (t % g.KW) * g.DW;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return nullptr;
              return x + ((n * g.H + ih) * g.W + iw) * g.C;
            }, acc);
          }
          K::template store<NP>(acc, min_index(B, g.OC - ob * B), relu, out + ob * B, g.OC);
        }
      };
      for (ob0 = 0; ob0 < nob; ob0 += obs) for_each_tile(g.OW, K::kPixels, tile);
    }
  });
}

// Backward-input for few input channels (C <= half a block), where vectorising over C would
// leave most lanes idle. Per output row it first computes, for each pixel, what that pixel sends
// to every (tap, channel) of its window: cols[ow][t*C + c] = sum_oc dy[oc] * w[t][c][oc], a 1x1
// convolution of dy with taps*C outputs on the same micro-kernel. It then adds each value to the
// input element the tap reads in the forward pass. Work items are whole images, so the
// scatter-adds of one image never race.
template <typename T>
void conv2d_backward_input_columns(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  const Index outs = g.KH * g.KW * g.C, nob = ceil_div(outs, B), width = nob * B;
  Buffer<T> wp(nob * g.OC * B), zeros(g.OC);
  pack_blocks(w, 1, g.OC, outs, true, wp.data());
  std::memset(zeros.data(), 0, sizeof(T) * g.OC);

  parallel_for(g.N, [&](Index begin, Index end, int) {
    Buffer<T> cols(g.OW * width);
    for (Index n = begin; n < end; ++n) {
      T* dxn = dx + n * g.H * g.W * g.C;
      std::memset(dxn, 0, sizeof(T) * g.H * g.W * g.C);
      for (Index oh = 0; oh < g.OH; ++oh) {
        const T* dyrow = dy + (n * g.OH + oh) * g.OW * g.OC;
        for (Index ob = 0; ob < nob; ++ob)
          for_each_tile(g.OW, K::kPixels, [&](Index ow0, auto np) {
            constexpr int NP = decltype(np)::value;
            typename K::Vec acc[NP][K::kVecs];
            K::template init<NP>(nullptr, acc);
            K::template accumulate<NP>(1, g.OC, wp.data() + ob * g.OC * B, zeros.data(),
                                       [&](Index, int p) { return dyrow + (ow0 + p) * g.OC; }, acc);
            K::template store<NP>(acc, B, false, cols.data() + ow0 * width + ob * B, width);
          });
        for (Index ow = 0; ow < g.OW; ++ow)
          for (Index kh = 0; kh < g.KH; ++kh) {
            const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
            if (ih < 0 || ih >= g.H) continue;
            for (Index kw = 0; kw < g.KW; ++kw) {
              const Index iw = ow * g.SW - g.pad_left + kw * g.DW;
              if (iw < 0 || iw >= g.W) continue;
              const T* src = cols.data() + ow * width + (kh * g.KW + kw) * g.C;
              T* dst = dxn + (ih * g.W + iw) * g.C;
              for (Index c = 0; c < g.C; ++c) dst[c] += src[c];
            }
          }
      }
    }
  });
}

// Backward-input of a pointwise convolution (see is_pointwise): dx (P, C) = dy (P, OC) . w^T
// over the P = N*H*W pixels, with w packed as for conv2d_backward_input. Chunks of pixels whose
// dy stays in L2 pass once per channel block, so the block's packed weights (OC x kBlock) stay in
// L1 while every tile of the chunk reads them (AVX2: 15% faster than channel blocks innermost,
// where a block's tiles cycle 64 KiB of weights through L1 for 64 channels).
template <typename T>
void conv2d_backward_input_pointwise(const Conv2dGeometry& g, const T* wp, const T* dy, T* dx) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  const Index pixels = g.N * g.H * g.W, ncb = ceil_div(g.C, B);
  const Index chunk = std::max<Index>(K::kPixels, (Index(64) << 10) / Index(sizeof(T)) / g.OC);
  parallel_for(ceil_div(pixels, chunk), [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index p0 = item * chunk, count = min_index(chunk, pixels - p0);
      // While the last block passes over the chunk, each tile fetches the same rows of the next
      // chunk into L2, so the first pass over a chunk does not wait on memory (j's input
      // gradient +13-23%, one thread).
      const T* next = dy + (p0 + count) * g.OC;
      const Index ahead = min_index(chunk, pixels - p0 - count) * g.OC;
      for (Index cb = 0; cb < ncb; ++cb)
        for_each_tile(count, K::kPixels, [&](Index first, auto np) {
          constexpr int NP = decltype(np)::value;
          if (cb == ncb - 1) {
            const Index stop = min_index(ahead, (first + NP) * g.OC);
            for (Index i = first * g.OC; i < stop; i += Simd<T>::kLineValues)
              __builtin_prefetch(next + i, 0, 2);
          }
          const T* rows = dy + (p0 + first) * g.OC;
          typename K::Vec acc[NP][K::kVecs];
          K::template init<NP>(nullptr, acc);
          K::template accumulate_strided<NP>(1, g.OC, wp + cb * g.OC * B, g.OC,
                                             [&](Index) { return rows; }, acc);
          K::template store<NP>(acc, min_index(B, g.C - cb * B), false,
                                dx + (p0 + first) * g.C + cb * B, g.C);
        });
    }
  });
}

// Backward-input as a convolution of dy with the kernel's channel roles swapped (vectorised over
// C). Input columns are visited by stride phase (iw = phase + SW*j), so every pixel of a tile is
// hit by the same kernel columns and taps the stride skips are skipped for the whole tile.
template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  if (2 * g.C <= B) return conv2d_backward_input_columns(g, dy, w, dx);
  const Index taps = g.KH * g.KW, ncb = ceil_div(g.C, B);
  Buffer<T> wp(ncb * taps * g.OC * B), zeros(g.OC);
  pack_blocks(w, taps, g.OC, g.C, true, wp.data());
  if (is_pointwise(g)) return conv2d_backward_input_pointwise(g, wp.data(), dy, dx);
  std::memset(zeros.data(), 0, sizeof(T) * g.OC);

  // The output index (row or column) that reads input index i at kernel offset k; `none` if the
  // stride skips it. It may lie outside the output: callers check the range.
  const Index none = -(g.OW + g.OH + K::kPixels);  // stays negative with a tile's offsets added
  auto source = [&](Index i, Index pad, Index k, Index d, Index s) -> Index {
    const Index t = i + pad - k * d, phase = ((t % s) + s) % s;
    return phase != 0 ? none : (t - phase) / s;
  };
  parallel_for(g.N * g.H, [&](Index begin, Index end, int) {
    // Per kernel row: the dy row it reads; per kernel column: the dy column pixel 0 of a tile
    // reads, pixel p reading p further (same phase), so no division runs per pixel and tap.
    Buffer<Index> oh_of(g.KH), ow_of(g.KW);
    for (Index item = begin; item < end; ++item) {
      const Index n = item / g.H, ih = item % g.H;
      for (Index kh = 0; kh < g.KH; ++kh) oh_of.data()[kh] = source(ih, g.pad_top, kh, g.DH, g.SH);
      for (Index phase = 0; phase < min_index(g.SW, g.W); ++phase) {
        const Index count = ceil_div(g.W - phase, g.SW);  // columns phase, phase + SW, ...
        for_each_tile(count, K::kPixels, [&](Index j0, auto np) {
          constexpr int NP = decltype(np)::value;
          const Index iw0 = phase + j0 * g.SW;
          for (Index kw = 0; kw < g.KW; ++kw)
            ow_of.data()[kw] = source(iw0, g.pad_left, kw, g.DW, g.SW);
          // Inside in width: every kernel column the stride keeps reads NP whole dy pixels.
          bool inside = true;
          for (Index kw = 0; kw < g.KW; ++kw) {
            const Index ow = ow_of.data()[kw];
            inside &= ow == none || (ow >= 0 && ow + NP <= g.OW);
          }
          // Channel blocks innermost: the tile's dy pixels stay in L1 for all of them.
          for (Index cb = 0; cb < ncb; ++cb) {
            const T* wblock = wp.data() + cb * taps * g.OC * B;
            typename K::Vec acc[NP][K::kVecs];
            K::template init<NP>(nullptr, acc);
            if (inside) {
              K::template accumulate_strided<NP>(taps, g.OC, wblock, g.OC,
                                                 [&](Index t) -> const T* {
                const Index kh = t / g.KW, oh = oh_of.data()[kh], ow = ow_of.data()[t - kh * g.KW];
                if (oh < 0 || oh >= g.OH || ow == none) return nullptr;
                return dy + ((n * g.OH + oh) * g.OW + ow) * g.OC;
              }, acc);
            } else {
              K::template accumulate<NP>(taps, g.OC, wblock, zeros.data(),
                                         [&](Index t, int p) -> const T* {
                const Index kh = t / g.KW, oh = oh_of.data()[kh];
                const Index ow = ow_of.data()[t - kh * g.KW] + p;
                if (oh < 0 || oh >= g.OH || ow < 0 || ow >= g.OW) return nullptr;
                return dy + ((n * g.OH + oh) * g.OW + ow) * g.OC;
              }, acc);
            }
            K::template store<NP>(acc, min_index(B, g.C - cb * B), false,
                                  dx + ((n * g.H + ih) * g.W + iw0) * g.C + cb * B, g.SW * g.C);
          }
        });
      }
    }
  });
}

// dw tile: NP consecutive entries of a kernel-row run x one block of output channels, reduced
// over the output pixels of rows [row_begin, row_end) (a row is one (n, oh)) at kernel row kh.
// A run is `kws` taps from kernel column kw0, C channels each; entry r is (kw0 + r / C, r % C),
// so in NHWC the run's inputs for one pixel are contiguous when kws == 1 or DW == 1.
// dyp has ocp channels a pixel. Only kRuns tiles (kws > 1) can straddle the image border.
template <typename T, int NP, bool kRuns>
inline void kernel_tile(const Conv2dGeometry& g, const T* x, const T* dyp, Index ocp,
                        Index row_begin, Index row_end, Index kh, Index kw0, Index r0, Index ob,
                        T* acc_out) {
  using K = Tile<T>;
  using S = Simd<T>;
  Index tap[NP], channel[NP];  // kernel column (relative to kw0) and channel of each entry
  for (int p = 0; p < NP; ++p) {
    tap[p] = (r0 + p) / g.C;
    channel[p] = (r0 + p) % g.C;
  }
  // Columns the tile reads relative to the run's first: [lo, hi] over its entries' taps.
  const Index lo = tap[0] * g.DW, hi = tap[NP - 1] * g.DW;
  typename K::Vec acc[NP][K::kVecs];
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < K::kVecs; ++j) acc[p][j] = S::load(acc_out + p * ocp + j * S::kLanes);
  for (Index row = row_begin; row < row_end; ++row) {
    const Index n = row / g.OH, oh = row % g.OH;
    const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
    if (ih < 0 || ih >= g.H) continue;
    const T* xrow = x + (n * g.H + ih) * g.W * g.C;
    const T* dyrow = dyp + row * g.OW * ocp + ob * K::kBlock;
    for (Index ow = 0; ow < g.OW; ++ow) {
      const Index iw0 = ow * g.SW - g.pad_left + kw0 * g.DW;  // column of the run's first tap
      if (iw0 + hi < 0 || iw0 + lo >= g.W) continue;        // every entry reads padding
      typename K::Vec d[K::kVecs];
      for (int j = 0; j < K::kVecs; ++j) d[j] = S::load(dyrow + ow * ocp + j * S::kLanes);
      if (!kRuns || (iw0 + lo >= 0 && iw0 + hi < g.W)) {  // all inside: contiguous inputs
        const T* xs = xrow + iw0 * g.C + r0;
#pragma GCC unroll 12
        for (int p = 0; p < NP; ++p) {
          const typename K::Vec xv = S::broadcast(xs[p]);
          for (int j = 0; j < K::kVecs; ++j) acc[p][j] += xv * d[j];
        }
      } else {  // a border pixel: entries whose column is outside the image read zero
        for (int p = 0; p < NP; ++p) {
          const Index iw = iw0 + tap[p] * g.DW;
          const T v = iw >= 0 && iw < g.W ? xrow[iw * g.C + channel[p]] : T(0);
          const typename K::Vec xv = S::broadcast(v);
          for (int j = 0; j < K::kVecs; ++j) acc[p][j] += xv * d[j];
        }
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
  // With few channels (and no column dilation) a whole kernel row is one run of KW*C contiguous
  // inputs, as in the forward pass: tiles span taps instead of running C-entry tiles.
  const bool runs = g.DW == 1 && g.C < K::kPixels && g.KW > 1;
  const Index kws = runs ? g.KW : 1, run = kws * g.C;

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
  zero_partials(partial.data(), nthreads, per_thread);
  // Rows per chunk: enough pixels to amortise loading the accumulators, few enough to stay in
  // cache.
  const Index chunk = g.OW >= 64 ? 1 : 64 / g.OW;

  parallel_for(rows, [&](Index begin, Index end, int thread) {
    T* dw_t = partial.data() + thread * per_thread;
    T* db_t = dw_t + taps * g.C * ocp;
    for (Index r0 = begin; r0 < end; r0 += chunk) {
      const Index r1 = min_index(end, r0 + chunk);
      for (Index kh = 0; kh < g.KH; ++kh)
        for (Index kw0 = 0; kw0 < g.KW; kw0 += kws)
          for (Index e0 = 0; e0 < run; e0 += K::kPixels)
            for (Index ob = 0; ob < nob; ++ob)
              with_rows(int(min_index(K::kPixels, run - e0)), [&](auto np) {
                T* acc = dw_t + ((kh * g.KW + kw0) * g.C + e0) * ocp + ob * B;
                constexpr int NP = decltype(np)::value;
                if (runs)
                  kernel_tile<T, NP, true>(g, x, dyp, ocp, r0, r1, kh, kw0, e0, ob, acc);
                else
                  kernel_tile<T, NP, false>(g, x, dyp, ocp, r0, r1, kh, kw0, e0, ob, acc);
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
