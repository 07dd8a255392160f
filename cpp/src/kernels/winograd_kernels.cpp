// 3x3 stride-1 convolution by Winograd's minimal filtering F(m x m, 3 x 3), m = 2 or 4 (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each m x m output tile is
// A^T [ (G g G^T) . (B^T d B) ] A for an (m+2) x (m+2) input patch d and a 3x3 kernel g: per
// channel pair it multiplies (m+2)^2 times instead of 9 m^2 (2.25x fewer for m = 2, 4x for m = 4).
// Summed over input channels, the (m+2)^2 elementwise products are that many independent GEMMs
// (tiles x C) . (C x K), which run on the direct convolution's micro-kernel (tile.hpp). Tiles are
// processed in groups small enough for the transformed inputs and products to stay in cache.
//
// Forward and backward-input share the algorithm: backward-input is the correlation of dy, padded
// by 2 - pad, with the kernel flipped and its channel roles swapped. Backward-kernel runs it
// transposed (kernel_gradient). Compiled once per ISA.
#include <algorithm>
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

// The transforms as straight-line code: the matrices are sparse with small integer entries, so
// this is far fewer operations than generic matrix products. kG, the kernel transform, is applied
// once per call.
template <int m>
struct Transforms;

template <>
struct Transforms<2> {
  static constexpr int kAlpha = 4;
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  template <typename V>  // o = B^T d
  static inline void input(const V (&d)[4], V (&o)[4]) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
  }
  template <typename V>  // y = A^T s
  static inline void output(const V (&s)[4], V (&y)[2]) {
    y[0] = s[0] + s[1] + s[2];
    y[1] = s[1] - s[2] - s[3];
  }
  template <typename V>  // s = A y, the transpose of output
  static inline void spread(const V (&y)[2], V (&s)[4]) {
    s[0] = y[0];
    s[1] = y[0] + y[1];
    s[2] = y[0] - y[1];
    s[3] = -y[1];
  }
};

template <>
struct Transforms<4> {
  static constexpr int kAlpha = 6;
  static constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                                      {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                      {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                      {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                      {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                      {0, 0, 1}};
  template <typename V>
  static inline void input(const V (&d)[6], V (&o)[6]) {
    const V four = V{} + 4, five = V{} + 5, two = V{} + 2;
    o[0] = four * d[0] - five * d[2] + d[4];
    o[1] = d[3] + d[4] - four * (d[1] + d[2]);
    o[2] = four * (d[1] - d[2]) + d[4] - d[3];
    o[3] = two * (d[3] - d[1]) + d[4] - d[2];
    o[4] = two * (d[1] - d[3]) + d[4] - d[2];
    o[5] = four * d[1] - five * d[3] + d[5];
  }
  template <typename V>
  static inline void output(const V (&s)[6], V (&y)[4]) {
    const V sum = s[1] + s[2], diff = s[1] - s[2];
    const V sum2 = s[3] + s[4], diff2 = s[3] - s[4];
    const V two = V{} + 2, four = V{} + 4, eight = V{} + 8;
    y[0] = s[0] + sum + sum2;
    y[1] = diff + two * diff2;
    y[2] = sum + four * sum2;
    y[3] = diff + eight * diff2 + s[5];
  }
  template <typename V>
  static inline void spread(const V (&y)[4], V (&s)[6]) {
    const V two = V{} + 2, four = V{} + 4, eight = V{} + 8;
    const V even = y[0] + y[2], odd = y[1] + y[3], even4 = y[0] + four * y[2];
    const V odd4 = two * y[1] + eight * y[3];
    s[0] = y[0];
    s[1] = even + odd;
    s[2] = even - odd;
    s[3] = even4 + odd4;
    s[4] = even4 - odd4;
    s[5] = y[3];
  }
};

// out = F in F^T for a 1-D transform F from n to k values (one of the Transforms): F applied to
// every column of in, then to every row of the result. in(i, j) gives the input values and
// out(a, b, value) takes the results. The loops are unrolled so every index is a constant: a loop
// over all n*n values with computed indices made GCC keep them in an indexed stack array.
template <int n, int k, typename V, typename In, typename F, typename Out>
__attribute__((always_inline)) inline void transform_2d(In&& in, F&& f, Out&& out) {
  V tmp[k][n];
#pragma GCC unroll 8
  for (int j = 0; j < n; ++j) {
    V col[n], res[k];
#pragma GCC unroll 8
    for (int i = 0; i < n; ++i) col[i] = in(i, j);
    f(col, res);
#pragma GCC unroll 8
    for (int i = 0; i < k; ++i) tmp[i][j] = res[i];
  }
#pragma GCC unroll 8
  for (int a = 0; a < k; ++a) {
    V res[k];
    f(tmp[a], res);
#pragma GCC unroll 8
    for (int b = 0; b < k; ++b) out(a, b, res[b]);
  }
}

// A correlation y (N, OH, OW, K) = 3x3 stride-1 x (N, H, W, C) read from (-pad_top, -pad_left),
// out-of-image inputs reading zero.
struct Problem {
  Index N, H, W, C, OH, OW, K, pad_top, pad_left;
};

template <typename T>
inline typename Simd<T>::Vec load_lanes(const T* p, Index count) {
  using S = Simd<T>;
  if (count >= S::kLanes) return S::load(p);
  T lanes[S::kLanes] = {};
  for (Index i = 0; i < count; ++i) lanes[i] = p[i];
  return S::load(lanes);
}

// Stores the first `count` lanes of v at p: the inverse of load_lanes.
template <typename T>
inline void store_lanes(T* p, typename Simd<T>::Vec v, Index count) {
  using S = Simd<T>;
  if (count >= S::kLanes) return S::store(p, v);
  T lanes[S::kLanes];
  S::store(lanes, v);
  std::memcpy(p, lanes, sizeof(T) * count);
}

// Calls body(kb, c, k0, g) for every input channel c and vector of outputs from k0 in output block
// kb, in u's order within each thread's share (blocks of K outside channels, so each position's
// values are written in sequence: against channels outside, i's input gradient transform took 11%
// less time), where g[i][j] is the 3x3 kernel: w[((i*3 + j)*C + c)*K + k] forward, and for
// backward-input, where C and K are the kernel's output and input channels and w is [tap][k][c],
// the flipped w[(((2-i)*3 + 2-j)*K + k)*C + c]. Zero past K.
template <typename T, typename Body>
void for_each_kernel(const T* w, Index C, Index K, bool backward, Body&& body) {
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index B = Tile<T>::kBlock, L = S::kLanes, kSide = 16;
  const Index nkb = ceil_div(K, B), ncb = ceil_div(C, kSide);
  const auto run = [&](auto backward_tag) {
    constexpr bool kBackward = decltype(backward_tag)::value;
    parallel_for(nkb * ncb, [&](Index begin, Index end, int) {
      // Backward: the item's kernel values as [tap][c][k], so that a vector of k is one load.
      // Gathered from w lane by lane, K values C apart, the kernel had taken a sixth of i's input
      // gradient; transposed through a shared buffer first, threads read lines others had written.
      alignas(64) T block[9][kSide][B];
      for (Index item = begin; item < end; ++item) {
        const Index kb = item / ncb, c0 = item % ncb * kSide, nc = min_index(kSide, C - c0);
        const Index nk = min_index(B, K - kb * B);
        if constexpr (kBackward)
          for (Index tap = 0; tap < 9; ++tap)
            for (Index k = 0; k < B; ++k)
              for (Index c = 0; c < nc; ++c)
                block[tap][c][k] = k < nk ? w[(tap * K + kb * B + k) * C + c0 + c] : T(0);
        for (Index c = c0; c < c0 + nc; ++c)
          for (Index k0 = kb * B; k0 < kb * B + B; k0 += L) {
            Vec g[3][3];
            for (int i = 0; i < 3; ++i)
              for (int j = 0; j < 3; ++j)
                if constexpr (kBackward)
                  g[i][j] = S::load(&block[(2 - i) * 3 + 2 - j][c - c0][k0 - kb * B]);
                else
                  g[i][j] = k0 < K ? load_lanes(w + ((i * 3 + j) * C + c) * K + k0, K - k0)
                                   : S::zero();
            body(kb, c, k0, g);
          }
      }
    });
  };
  backward ? run(std::true_type{}) : run(std::false_type{});
}

// Values from one position of a transformed kernel u[e][kb][c][kBlock] (C input channels, K
// output channels) to the next: the data and one cache line. At a multiple of 4 KiB apart (256 KiB
// with 256 channels) the stores of one (c, kb), a line per position, all fall in one set of L1
// and of L2 and evict each other. With the line, calls that are mostly i's kernel transform took
// 25% less time on one thread and 39% less on two.
template <typename T>
Index position_stride(Index C, Index K) {
  return ceil_div(K, Tile<T>::kBlock) * Tile<T>::kBlock * C + Simd<T>::kLineValues;
}

// u[e * position_stride + (kb*C + c)*kBlock + lane] = (G g G^T)[e] for input channel c and
// output k = kb*kBlock + lane, g as for_each_kernel gives it. Vectorised over output channels.
template <typename T, int m>
void transform_kernel(const T* w, Index C, Index K, bool backward, T* u) {
  using X = Transforms<m>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = X::kAlpha;
  constexpr Index B = Tile<T>::kBlock;
  const Index stride = position_stride<T>(C, K);
  for_each_kernel(w, C, K, backward, [&](Index kb, Index c, Index k0, const Vec (&g)[3][3]) {
    T* out = u + (kb * C + c) * B + (k0 - kb * B);
    // Row a of G g, then row a of (G g) G^T: few enough vectors at once for the registers.
    for (int a = 0; a < A; ++a) {
      Vec gg[3];
      for (int j = 0; j < 3; ++j)
        gg[j] = T(X::kG[a][0]) * g[0][j] + T(X::kG[a][1]) * g[1][j] + T(X::kG[a][2]) * g[2][j];
      for (int b = 0; b < A; ++b)
        S::store(out + (a * A + b) * stride,
                 T(X::kG[b][0]) * gg[0] + T(X::kG[b][1]) * gg[1] + T(X::kG[b][2]) * gg[2]);
    }
  });
}

// How groups of tiles are shared between threads: handed to whichever thread is free, for passes
// whose groups write their own outputs (forward, input gradient), or the same groups to each
// thread on every call, for passes that sum groups into per-thread copies added in a fixed order
// (kernel gradient).
enum class Split { kDynamic, kFixed };

// Transformed data (inputs and products) per group where groups are handed out: a quarter of the
// 1 MiB L2 cache of the Zen 4 cores this was measured on, so that a group's transforms stay in L2
// from the input transform through every product to the output transform, while the transformed
// kernel, which every group reads whole, streams from L3. Against groups as large as the
// transformed kernel (49 to 98 tiles for h and i): h, i and k 6-20% faster on one thread and 10-21%
// on two with AVX2, the others level or faster; budgets of 384 KiB and more were slower.
constexpr Index kGroupBytes = Index(256) << 10;

// Tiles per group where each group adds into its thread's copy of the whole product sum (the
// kernel gradient): at least as many tiles as make their transformed data as large as that sum, so
// adding to it is not the bottleneck, and at least a few micro-kernel tiles, with about the same
// data for both tile sizes (F(4x4) has 36 values per tile, F(2x2) 16).
template <typename T, int m>
Index wanted_group(const Problem& p) {
  constexpr Index NP = Tile<T>::kPixels, L = Simd<T>::kLanes, B = Tile<T>::kBlock;
  const Index cp = ceil_div(p.C, L) * L, kp = ceil_div(p.K, B) * B;
  return std::max<Index>((m == 2 ? 4 : 2) * NP, ceil_div(p.C * kp, cp + kp));
}

// Tiles per group where each group writes its own outputs (forward, input gradient): the whole
// micro-kernel tiles whose transformed data, tile_values values each, fit in kGroupBytes, and at
// least one micro-kernel tile.
template <typename T>
Index group_in_budget(Index tile_values) {
  constexpr Index NP = Tile<T>::kPixels;
  return std::max<Index>(kGroupBytes / (tile_values * Index(sizeof(T))) / NP, 1) * NP;
}

// The size of groups of about `wanted` tiles that share `tiles` between the threads as `split`
// says: at most a quarter of a thread's share where they are handed out, so that when the host
// slows one thread down the others take over its last groups, and at most a whole share where they
// are split. And a multiple of the threads in groups, so the fixed split gives every thread the
// same work; groups are whole micro-kernel tiles where that gives no thread more tiles (392 tiles
// on two threads: 8 groups of 49, not 7 of 54 and one of 14, which left one thread 216 and the
// other 176).
template <typename T>
Index group_size(Index tiles, Index wanted, Split split) {
  constexpr Index NP = Tile<T>::kPixels;
  const Index threads = get_num_threads(), parts = split == Split::kDynamic ? 4 : 1;
  const Index target = std::min(wanted, std::max<Index>(ceil_div(tiles, parts * threads), 1));
  const Index ngroups = std::max<Index>(ceil_div(ceil_div(tiles, target), threads), 1) * threads;
  const Index even = std::max<Index>(ceil_div(tiles, ngroups), 1), whole = ceil_div(even, NP) * NP;
  const auto busiest = [&](Index size) {  // tiles of the busiest thread, groups of `size`
    return min_index(ceil_div(ceil_div(tiles, size), threads) * size, tiles);
  };
  return busiest(whole) <= busiest(even) ? whole : even;
}

// Runs body(t0, count, v, w, thread) for each group of `group` consecutive tiles from t0 (the last
// one shorter); each thread has its own scratch v and w of group * v_values and group * w_values
// values. The groups are shared as `split` says: by parallel_for_dynamic, or as parallel_for
// splits them.
template <typename T, typename Body>
void for_each_group(Index tiles, Index group, Index v_values, Index w_values, Split split,
                    Body&& body) {
  const Index ngroups = ceil_div(tiles, group);
  const auto run = [&](Index grp, T* v, T* w, int thread) {
    const Index t0 = grp * group;
    body(t0, min_index(group, tiles - t0), v, w, thread);
  };
  if (split == Split::kFixed) {
    parallel_for(ngroups, [&](Index begin, Index end, int thread) {
      Buffer<T> v(group * v_values), w(group * w_values);
      for (Index grp = begin; grp < end; ++grp) run(grp, v.data(), w.data(), thread);
    });
    return;
  }
  parallel_for_dynamic(ngroups, [&](auto next, int thread) {
    Buffer<T> v(group * v_values), w(group * w_values);
    for (Index grp = next(); grp >= 0; grp = next()) run(grp, v.data(), w.data(), thread);
  });
}

// v[e * stride + c] = (B^T d B)[e] for the input patch d of output tile `tile` (tiles numbered
// over (n, tile row, tile column)); channels padded to whole vectors with zeros.
template <typename T, int m>
void transform_input(const Problem& p, const T* x, Index tile, T* v, Index stride) {
  using X = Transforms<m>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = X::kAlpha;
  constexpr Index L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, th = ceil_div(p.OH, m), tw = ceil_div(p.OW, m);
  const Index n = tile / (th * tw), r = tile % (th * tw);
  const Index ih0 = (r / tw) * m - p.pad_top, iw0 = (r % tw) * m - p.pad_left;
  const bool inside = ih0 >= 0 && ih0 + A <= p.H && iw0 >= 0 && iw0 + A <= p.W;
  const auto input = [](const Vec (&a)[A], Vec (&b)[A]) { X::input(a, b); };
  const auto store = [&](Index c0) {
    return [=](int a, int b, Vec value) {
      S::store_values(v + (a * A + b) * stride + c0, value);
    };
  };
  for (Index c0 = 0; c0 < cp; c0 += L) {
    if (inside && c0 + L <= p.C) {  // the patch lies in the image: plain vector loads
      const T* corner = x + ((n * p.H + ih0) * p.W + iw0) * p.C + c0;
      transform_2d<A, A, Vec>([&](int i, int j) { return S::load(corner + (i * p.W + j) * p.C); },
                              input, store(c0));
    } else {
      transform_2d<A, A, Vec>([&](int i, int j) {
        const Index ih = ih0 + i, iw = iw0 + j;
        return ih >= 0 && ih < p.H && iw >= 0 && iw < p.W
                   ? load_lanes(x + ((n * p.H + ih) * p.W + iw) * p.C + c0, p.C - c0)
                   : S::zero();
      }, input, store(c0));
    }
  }
}

// Runs the correlation with transformed kernel u (see transform_kernel), adding bias (length K,
// may be null) and applying relu to each output.
template <typename T, int m>
void correlate(const Problem& p, const T* x, const T* u, const T* bias, bool relu, T* y) {
  using X = Transforms<m>;
  using K = Tile<T>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = X::kAlpha, E = A * A;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, nkb = ceil_div(p.K, B), kp = nkb * B;
  const Index th = ceil_div(p.OH, m), tw = ceil_div(p.OW, m), tiles = p.N * th * tw;
  const Index ustride = position_stride<T>(p.C, p.K);
  // Values per tile in v and prod, one cache line more than the data: at a power-of-two distance
  // (16 KiB for F(2x2) with 256 channels) the micro-kernel's rows would share L1 cache sets.
  const Index vt = E * cp + S::kLineValues, pt = E * kp + S::kLineValues;
  const Index group = group_size<T>(tiles, group_in_budget<T>(vt + pt), Split::kDynamic);

  for_each_group<T>(tiles, group, vt, pt, Split::kDynamic,
                    [&](Index t0, Index count, T* v, T* prod, int) {
    for (Index t = 0; t < count; ++t)
      transform_input<T, m>(p, x, t0 + t, v + t * vt, cp);

    // prod[t][e][k] = sum_c v[t][e][c] u[e][c][k]: one GEMM per transform position e, its
    // operands tile-major so that each tile's transforms write and read one contiguous block.
    for (Index e = 0; e < E; ++e)
      for (Index kb = 0; kb < nkb; ++kb) {
        const T* ublock = u + e * ustride + kb * p.C * B;
        const T* ve = v + e * cp;
        for_each_tile(count, K::kPixels, [&](Index first, auto np) {
          constexpr int NP = decltype(np)::value;
          Vec acc[NP][K::kVecs];
          K::template init<NP>(nullptr, acc);
          K::template accumulate<NP>(1, p.C, ublock, ve, [&](Index, int q) {
            return ve + (first + q) * vt;
          }, acc);
          K::template store<NP>(acc, B, false, prod + first * pt + e * kp + kb * B, pt);
        });
      }

    // y tile = A^T prod A (+ bias, relu), stored where it lies inside the output.
    for (Index t = 0; t < count; ++t) {
      const Index tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
      const Index oh0 = (r / tw) * m, ow0 = (r % tw) * m;
      const Index rows = min_index(m, p.OH - oh0), cols = min_index(m, p.OW - ow0);
      for (Index k0 = 0; k0 < p.K; k0 += L) {
        const T* s = prod + t * pt + k0;
        const Vec b = bias != nullptr ? load_lanes(bias + k0, p.K - k0) : S::zero();
        const Index lanes = min_index(L, p.K - k0);
        transform_2d<A, m, Vec>(
            [&](int i, int j) { return S::load(s + (i * A + j) * kp); },
            [](const Vec (&a)[A], Vec (&o)[m]) { X::output(a, o); },
            [&](int i, int j, Vec o) {
              if (i >= rows || j >= cols) return;
              o += b;
              if (relu) o = S::relu(o);
              T* dst = y + ((n * p.OH + oh0 + i) * p.OW + ow0 + j) * p.K + k0;
              store_lanes(dst, o, lanes);
            });
      }
    }
  });
}

// d[e * stride + k] = (A dy A^T)[e] for the dy of output tile `tile` (zero outside the output);
// adds the tile's dy to db_t (kp values) unless null.
template <typename T, int m>
void transform_dy(const Problem& p, const T* dy, Index tile, T* d, Index stride, T* db_t) {
  using X = Transforms<m>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = X::kAlpha;
  constexpr Index L = S::kLanes, B = Tile<T>::kBlock;
  const Index kp = ceil_div(p.K, B) * B, th = ceil_div(p.OH, m), tw = ceil_div(p.OW, m);
  const Index n = tile / (th * tw), r = tile % (th * tw);
  const Index oh0 = (r / tw) * m, ow0 = (r % tw) * m;
  const bool inside = oh0 + m <= p.OH && ow0 + m <= p.OW;
  const auto spread = [](const Vec (&a)[m], Vec (&b)[A]) { X::spread(a, b); };
  for (Index k0 = 0; k0 < kp; k0 += L) {
    Vec total = S::zero();
    const auto store = [&](int a, int b, Vec value) {
      S::store(d + (a * A + b) * stride + k0, value);
    };
    if (inside && k0 + L <= p.K) {  // the whole tile lies in dy: plain vector loads
      const T* corner = dy + ((n * p.OH + oh0) * p.OW + ow0) * p.K + k0;
      transform_2d<m, A, Vec>([&](int i, int j) {
        const Vec g = S::load(corner + (i * p.OW + j) * p.K);
        total += g;
        return g;
      }, spread, store);
    } else {
      transform_2d<m, A, Vec>([&](int i, int j) {
        const bool in = oh0 + i < p.OH && ow0 + j < p.OW && k0 < p.K;
        const Vec g = in ? load_lanes(dy + ((n * p.OH + oh0 + i) * p.OW + ow0 + j) * p.K + k0,
                                      p.K - k0)
                         : S::zero();
        total += g;
        return g;
      }, spread, store);
    }
    if (db_t != nullptr) S::store(db_t + k0, S::load(db_t + k0) + total);
  }
}

// out[q][k] = (fresh ? 0 : out[q][k]) + sum_{t < count} ve[t*cp + q] * de[t*kp + k] for the NP
// channels q of one transform position and the K blocks [kb_begin, kb_end); out's rows are kp
// apart.
template <typename T, int NP>
void position_products(Index count, Index cp, Index kp, Index kb_begin, Index kb_end,
                       const T* ve, const T* de, bool fresh, T* out) {
  using K = Tile<T>;
  constexpr Index B = K::kBlock;
  for (Index kb = kb_begin; kb < kb_end; ++kb) {
    typename K::Vec acc[NP][K::kVecs];
    if (fresh)
      K::template init<NP>(nullptr, acc);
    else
      K::template load<NP>(out + kb * B, kp, B, acc);
    K::template reduce<NP>(count, de + kb * B, kp, [&](int q, Index t) { return ve[t * cp + q]; },
                           acc);
    K::template store<NP>(acc, B, false, out + kb * B, kp);
  }
}

// out[i] = the sum over the `copies` thread-private buffers `stride` apart of their value at
// offset + i, for i < count, added in buffer order.
template <typename T>
void add_copies(const T* buffers, Index copies, Index stride, Index offset, Index count, T* out) {
  for (Index i = 0; i < count; ++i) {
    T total = buffers[offset + i];
    for (Index t = 1; t < copies; ++t) total += buffers[t * stride + offset + i];
    out[i] = total;
  }
}

// dw = G^T S G per input channel and vector of K, where S[e][c][k] is the sum of `copies` product
// sums `stride` apart, added in order.
template <typename T, int m>
void finish_kernel_gradient(const Problem& p, const T* sums, Index copies, Index stride, T* dw) {
  using X = Transforms<m>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = X::kAlpha, E = A * A;
  constexpr Index L = S::kLanes;
  const Index kp = ceil_div(p.K, Tile<T>::kBlock) * Tile<T>::kBlock;
  parallel_for(p.C, [&](Index begin, Index end, int) {
    for (Index c = begin; c < end; ++c)
      for (Index k0 = 0; k0 < p.K; k0 += L) {
        Vec s[A][A], tmp[3][A];
        for (int e = 0; e < E; ++e) {
          Vec total = S::load(sums + (e * p.C + c) * kp + k0);
          for (Index t = 1; t < copies; ++t)
            total += S::load(sums + t * stride + (e * p.C + c) * kp + k0);
          s[e / A][e % A] = total;
        }
        for (int i = 0; i < 3; ++i)
          for (int b = 0; b < A; ++b) {
            tmp[i][b] = S::zero();
            for (int a = 0; a < A; ++a) tmp[i][b] += T(X::kG[a][i]) * s[a][b];
          }
        const Index lanes = min_index(L, p.K - k0);
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) {
            Vec o = S::zero();
            for (int b = 0; b < A; ++b) o += tmp[i][b] * T(X::kG[b][j]);
            T vals[L];
            S::store(vals, o);
            std::memcpy(dw + ((i * 3 + j) * p.C + c) * p.K + k0, vals, sizeof(T) * lanes);
          }
      }
  });
}

// The kernel gradient with the products split between threads: every tile transformed first
// (v[e][t][c], d[e][t][k] over all tiles), then each (position, block of K) summed over all tiles
// by one thread, in tile order, and db summed per vector of K in pixel order.
template <typename T, int m>
void kernel_gradient_split(const Problem& p, const T* x, const T* dy, T* dw, T* db) {
  using K = Tile<T>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int A = Transforms<m>::kAlpha, E = A * A;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, nkb = ceil_div(p.K, B), kp = nkb * B;
  const Index tiles = p.N * ceil_div(p.OH, m) * ceil_div(p.OW, m);
  Buffer<T> v(E * tiles * cp), d(E * tiles * kp), sums(E * p.C * kp);
  parallel_for(tiles, [&](Index begin, Index end, int) {
    for (Index t = begin; t < end; ++t) {
      transform_input<T, m>(p, x, t, v.data() + t * cp, tiles * cp);
      transform_dy<T, m>(p, dy, t, d.data() + t * kp, tiles * kp, nullptr);
    }
  });
  parallel_for(E * nkb, [&](Index begin, Index end, int) {
    for (Index item = begin; item < end; ++item) {
      const Index e = item / nkb, kb = item % nkb;
      for_each_tile(p.C, K::kPixels, [&](Index c0, auto np) {
        position_products<T, decltype(np)::value>(tiles, cp, kp, kb, kb + 1,
                                                  v.data() + e * tiles * cp + c0,
                                                  d.data() + e * tiles * kp, true,
                                                  sums.data() + (e * p.C + c0) * kp);
      });
    }
  });
  finish_kernel_gradient<T, m>(p, sums.data(), 1, 0, dw);
  if (db == nullptr) return;
  const Index pixels = p.N * p.OH * p.OW;
  parallel_for(ceil_div(p.K, L), [&](Index begin, Index end, int) {
    for (Index kv = begin; kv < end; ++kv) {
      const Index k0 = kv * L, lanes = min_index(L, p.K - k0);
      Vec total = S::zero();
      for (Index q = 0; q < pixels; ++q) total += load_lanes(dy + q * p.K + k0, lanes);
      T vals[L];
      S::store(vals, total);
      std::memcpy(db + k0, vals, sizeof(T) * lanes);
    }
  });
}

// The kernel gradient by the transposed algorithm, F(3x3, m x m): for each m x m tile of dy and
// the input patch d it reads, dw gains G^T [ (A dy A^T) . (B^T d B) ] G. The (m+2)^2 elementwise
// products summed over tiles are GEMMs (C x tiles) . (tiles x K). With enough tiles per thread,
// threads sum groups of tiles into private copies of the products, added in a fixed order at
// the end (bitwise reproducible for a given thread count); with few, writing and adding those
// copies would outweigh the products, so all tiles are transformed first and the threads split
// the products instead (reproducible for any thread count). db, when not null, is the sum of dy.
template <typename T, int m>
void kernel_gradient(const Problem& p, const T* x, const T* dy, T* dw, T* db) {
  using X = Transforms<m>;
  using K = Tile<T>;
  using S = Simd<T>;
  constexpr int A = X::kAlpha, E = A * A;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, nkb = ceil_div(p.K, B), kp = nkb * B;
  const Index th = ceil_div(p.OH, m), tw = ceil_div(p.OW, m), tiles = p.N * th * tw;
  const Index share = ceil_div(tiles, Index(get_num_threads()));
  const Index transformed_bytes = E * tiles * (cp + kp) * Index(sizeof(T));
  if (share < wanted_group<T, m>(p) && transformed_bytes <= (Index(64) << 20))
    return kernel_gradient_split<T, m>(p, x, dy, dw, db);

  const Index group = group_size<T>(tiles, wanted_group<T, m>(p), Split::kFixed);
  const Index ngroups = ceil_div(tiles, group);
  const Index nthreads = min_index(get_num_threads(), std::max<Index>(ngroups, 1));
  const Index per_thread = E * p.C * kp + kp;  // the summed products, then db
  Buffer<T> partial(nthreads * per_thread);
  zero_partials(partial.data(), nthreads, per_thread);

  for_each_group<T>(tiles, group, E * cp, E * kp, Split::kFixed,
                  [&](Index t0, Index count, T* v, T* d, int thread) {
    T* sum = partial.data() + thread * per_thread;
    T* db_t = sum + E * p.C * kp;
    for (Index t = 0; t < count; ++t) {
      transform_input<T, m>(p, x, t0 + t, v + t * cp, group * cp);
      transform_dy<T, m>(p, dy, t0 + t, d + t * kp, group * kp, db_t);
    }
    for (Index e = 0; e < E; ++e)
      for_each_tile(p.C, K::kPixels, [&](Index c0, auto np) {
        position_products<T, decltype(np)::value>(count, cp, kp, 0, nkb,
                                                  v + e * group * cp + c0,
                                                  d + e * group * kp, false,
                                                  sum + (e * p.C + c0) * kp);
      });
  });

  finish_kernel_gradient<T, m>(p, partial.data(), nthreads, per_thread, dw);
  if (db != nullptr) add_copies(partial.data(), nthreads, per_thread, E * p.C * kp, p.K, db);
}

template <typename T, int m>
void run(const Problem& p, const T* x, const T* w, bool backward, const T* bias, bool relu, T* y) {
  constexpr int E = Transforms<m>::kAlpha * Transforms<m>::kAlpha;
  Buffer<T> u(E * position_stride<T>(p.C, p.K));
  transform_kernel<T, m>(w, p.C, p.K, backward, u.data());
  correlate<T, m>(p, x, u.data(), bias, relu, y);
}

// 3x3 stride-2 convolution by phases. Each output of a 4x4 tile reads a 9x9 input patch: its
// even rows and columns (a 5x5 phase) meet kernel rows and columns 0 and 2, its odd ones kernel
// row and column 1. So the tile is the sum of four stride-1 correlations over the patch's phases:
// even/even (5x5) with the 2x2 kernel g[{0,2}][{0,2}] by F(4x4, 2x2), even/odd (5x4) with the
// 2x1 kernel g[{0,2}][1] by F(4, 2) down the columns, odd/even (4x5) with g[1][{0,2}] by F(4, 2)
// along the rows, and odd/odd (4x4) with g[1][1] directly: 25 + 20 + 20 + 16 = 81 products per
// channel pair instead of 144 (1.78x fewer), the patch's 81 values transformed phase by phase.
//
// Transformed patch positions e: even/even a*5 + b, even/odd 25 + a*4 + v, odd/even 45 + t*5 + b,
// odd/odd 65 + t*4 + v (a, b < 5 transformed, t, v < 4 plain). Positions that share a kernel
// value form one GEMM with several rows per tile: 36 GEMMs, the transformed kernel's 36 values
// (kernel positions) ordered even/even a*5 + b, even/odd 25 + a, odd/even 30 + b, odd/odd 35.
struct Stride2 {
  static constexpr int kTile = 4, kPositions = 81, kKernelPositions = 36;
  static constexpr int kEvenOdd(int a, int v) { return 25 + a * 4 + v; }
  static constexpr int kOddEven(int t, int b) { return 45 + t * 5 + b; }
  // Per kernel position: first patch position, step between its rows' positions, and log2 of
  // its rows per tile (a shift, not a division, per row).
  struct Gemm {
    int first, step, log_rows;
  };
  static constexpr Gemm gemm(int kpos) {
    return kpos < 25   ? Gemm{kpos, 1, 0}
           : kpos < 30 ? Gemm{25 + (kpos - 25) * 4, 1, 2}
           : kpos < 35 ? Gemm{45 + (kpos - 30), 5, 2}
                       : Gemm{65, 1, 4};
  }
  // F(4, 2) at the points 0, 1, -1, 2 and infinity.
  template <typename V>  // o = B^T d
  static inline void input(const V (&d)[5], V (&o)[5]) {
    const V two = V{} + 2, three = V{} + 3;
    o[0] = two * (d[0] - d[2]) - d[1] + d[3];
    o[1] = d[3] - two * d[1] - d[2];
    o[2] = two * d[1] - three * d[2] + d[3];
    o[3] = d[3] - d[1];
    o[4] = two * (d[1] - d[3]) - d[2] + d[4];
  }
  template <typename V>  // y = A^T s
  static inline void output(const V (&s)[5], V (&y)[4]) {
    const V two = V{} + 2, four = V{} + 4, eight = V{} + 8;
    const V sum = s[1] + s[2], diff = s[1] - s[2];
    y[0] = s[0] + sum + s[3];
    y[1] = diff + two * s[3];
    y[2] = sum + four * s[3];
    y[3] = diff + eight * s[3] + s[4];
  }
  template <typename V>  // s = A y, the transpose of output
  static inline void spread(const V (&y)[4], V (&s)[5]) {
    const V two = V{} + 2, four = V{} + 4, eight = V{} + 8;
    const V even = y[0] + y[2], odd = y[1] + y[3];
    s[0] = y[0];
    s[1] = even + odd;
    s[2] = even - odd;
    s[3] = y[0] + two * y[1] + four * y[2] + eight * y[3];
    s[4] = y[3];
  }
  static constexpr double kG[5][2] = {
      {0.5, 0}, {-0.5, -0.5}, {-1.0 / 6, 1.0 / 6}, {1.0 / 6, 1.0 / 3}, {0, 1}};
  // The kernel position whose value patch position e multiplies.
  static constexpr int kernel_position(int e) {
    return e < 25 ? e : e < 45 ? 25 + (e - 25) / 4 : e < 65 ? 30 + (e - 45) % 5 : 35;
  }
  template <typename T, typename V>  // u = G g
  static inline void kernel(const V (&g)[2], V (&u)[5]) {
    const V half = V{} + T(0.5), sixth = V{} + T(1.0 / 6), third = V{} + T(1.0 / 3);
    u[0] = half * g[0];
    u[1] = -half * (g[0] + g[1]);
    u[2] = sixth * (g[1] - g[0]);
    u[3] = sixth * g[0] + third * g[1];
    u[4] = g[1];
  }
};

// u[kpos * position_stride + (kb*C + c)*kBlock + lane] for the 36 kernel positions of Stride2,
// from the kernel for_each_kernel gives.
template <typename T>
void transform_kernel_stride2(const T* w, Index C, Index K, bool backward, T* u) {
  using X = Stride2;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index B = Tile<T>::kBlock;
  const Index stride = position_stride<T>(C, K);
  for_each_kernel(w, C, K, backward, [&](Index kb, Index c, Index k0, const Vec (&g)[3][3]) {
    const auto put = [&](int kpos, Vec value) {
      S::store(u + kpos * stride + (kb * C + c) * B + (k0 - kb * B), value);
    };
    Vec rows[2][5], ee[5][5], eo[5], oe[5];
    for (int j = 0; j < 2; ++j) X::template kernel<T>({g[0][2 * j], g[2][2 * j]}, rows[j]);
    for (int a = 0; a < 5; ++a) X::template kernel<T>({rows[0][a], rows[1][a]}, ee[a]);
    X::template kernel<T>({g[0][1], g[2][1]}, eo);
    X::template kernel<T>({g[1][0], g[1][2]}, oe);
    for (int a = 0; a < 5; ++a) {
      for (int b = 0; b < 5; ++b) put(a * 5 + b, ee[a][b]);
      put(25 + a, eo[a]);
      put(30 + a, oe[a]);
    }
    put(35, g[1][1]);
  });
}

// Tiles down a column (or along a row) of a stride-2 problem with `out` output rows and `pad`
// padding rows on top: forward, 4x4 output tiles; input gradient, 4x4 tiles of each phase of dx
// (8x8 blocks of dx).
inline Index stride2_tiles(Index out, Index pad, bool input_gradient) {
  return input_gradient ? ceil_div(ceil_div(out + pad, 2), 4) : ceil_div(out, 4);
}

// v[e * stride + c] for the 81 patch positions e of tile `tile` (see Stride2); channels padded to
// whole vectors with zeros. Forward: the tile's 9x9 input patch. Input gradient: for dx phase
// rows a0..a0+3, even ones read dy rows a0-1..a0+3 and odd ones a0..a0+3 (so 2x2, 2x1, 1x2 and
// 1x1 kernels, flipped, correlate them), and likewise in width: the 5x5 dy patch from
// (a0-1, b0-1), its row and column i standing where the forward patch has 2i and 2i-1.
template <typename T, bool kInputGradient>
void transform_input_stride2(const Problem& p, const T* x, Index tile, T* v, Index stride) {
  using X = Stride2;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index L = S::kLanes, extent = kInputGradient ? 5 : 9;
  const Index cp = ceil_div(p.C, L) * L;
  const Index th = stride2_tiles(p.OH, p.pad_top, kInputGradient);
  const Index tw = stride2_tiles(p.OW, p.pad_left, kInputGradient);
  const Index n = tile / (th * tw), r = tile % (th * tw);
  const Index ih0 = kInputGradient ? (r / tw) * 4 - 1 : (r / tw) * 8 - p.pad_top;
  const Index iw0 = kInputGradient ? (r % tw) * 4 - 1 : (r % tw) * 8 - p.pad_left;
  const bool inside = ih0 >= 0 && ih0 + extent <= p.H && iw0 >= 0 && iw0 + extent <= p.W;
  // Patch row (or column) of forward patch row i.
  const auto index = [](int i) { return kInputGradient ? (i + 1) / 2 : i; };
  const auto input = [](const Vec (&a)[5], Vec (&b)[5]) { X::input(a, b); };
  for (Index c0 = 0; c0 < cp; c0 += L) {
    const auto put = [&](int e, Vec value) { S::store_values(v + e * stride + c0, value); };
    // Every transform from the patch values at(i, j), i, j < 9.
    const auto transform = [&](auto&& at) {
      transform_2d<5, 5, Vec>([&](int i, int j) { return at(2 * i, 2 * j); }, input,
                              [&](int a, int b, Vec value) { put(a * 5 + b, value); });
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        Vec even_odd[5], odd_even[5], out[5];
#pragma GCC unroll 5
        for (int i = 0; i < 5; ++i) {
          even_odd[i] = at(2 * i, 2 * t + 1);
          odd_even[i] = at(2 * t + 1, 2 * i);
        }
        X::input(even_odd, out);
#pragma GCC unroll 5
        for (int a = 0; a < 5; ++a) put(X::kEvenOdd(a, t), out[a]);
        X::input(odd_even, out);
#pragma GCC unroll 5
        for (int b = 0; b < 5; ++b) put(X::kOddEven(t, b), out[b]);
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) put(65 + t * 4 + u, at(2 * t + 1, 2 * u + 1));
      }
    };
    if (inside && c0 + L <= p.C) {  // the patch lies in the image: plain vector loads
      const T* corner = x + ((n * p.H + ih0) * p.W + iw0) * p.C + c0;
      transform([&](int i, int j) { return S::load(corner + (index(i) * p.W + index(j)) * p.C); });
    } else {
      transform([&](int i, int j) {
        const Index ih = ih0 + index(i), iw = iw0 + index(j);
        return ih >= 0 && ih < p.H && iw >= 0 && iw < p.W
                   ? load_lanes(x + ((n * p.H + ih) * p.W + iw) * p.C + c0, p.C - c0)
                   : S::zero();
      });
    }
  }
}

// The stride-2 correlation with transformed kernel u (see transform_kernel_stride2), as correlate
// in groups of tiles. Forward: y tiles are the sum of the four phases' outputs, plus bias (length
// K, may be null), then relu. Input gradient: each phase's outputs are the dx pixels of that
// phase (bias null, relu false).
template <typename T, bool kInputGradient>
void correlate_stride2(const Problem& p, const T* x, const T* u, const T* bias, bool relu, T* y) {
  using X = Stride2;
  using K = Tile<T>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int E = X::kPositions;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, nkb = ceil_div(p.K, B), kp = nkb * B;
  const Index th = stride2_tiles(p.OH, p.pad_top, kInputGradient);
  const Index tw = stride2_tiles(p.OW, p.pad_left, kInputGradient), tiles = p.N * th * tw;
  const Index ustride = position_stride<T>(p.C, p.K);
  const Index vt = E * cp + S::kLineValues, pt = E * kp + S::kLineValues;
  const Index group = group_size<T>(tiles, group_in_budget<T>(vt + pt), Split::kDynamic);

  for_each_group<T>(tiles, group, vt, pt, Split::kDynamic,
                    [&](Index t0, Index count, T* v, T* prod, int) {
    for (Index t = 0; t < count; ++t)
      transform_input_stride2<T, kInputGradient>(p, x, t0 + t, v + t * vt, cp);

    for (int kpos = 0; kpos < X::kKernelPositions; ++kpos) {
      const X::Gemm gm = X::gemm(kpos);
      // Row q of this GEMM: tile q >> log_rows, patch position first + (q % rows) * step.
      const Index mask = (Index(1) << gm.log_rows) - 1;
      const auto position = [&](Index q) { return gm.first + (q & mask) * gm.step; };
      for (Index kb = 0; kb < nkb; ++kb) {
        const T* ublock = u + kpos * ustride + kb * p.C * B;
        for_each_tile(count << gm.log_rows, K::kPixels, [&](Index first, auto np) {
          constexpr int NP = decltype(np)::value;
          Vec acc[NP][K::kVecs];
          K::template init<NP>(nullptr, acc);
          K::template accumulate<NP>(1, p.C, ublock, v, [&](Index, int q) {
            const Index row = first + q;
            return v + (row >> gm.log_rows) * vt + position(row) * cp;
          }, acc);
          for (int q = 0; q < NP; ++q) {
            const Index row = first + q;
            T* dst = prod + (row >> gm.log_rows) * pt + position(row) * kp + kb * B;
            for (int j = 0; j < K::kVecs; ++j) S::store(dst + j * L, acc[q][j]);
          }
        });
      }
    }

    // The phases' outputs: A^T s_ee A, A^T s_eo, s_oe A and s_oo.
    for (Index t = 0; t < count; ++t) {
      const Index tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
      for (Index k0 = 0; k0 < p.K; k0 += L) {
        const T* s = prod + t * pt + k0;
        const auto at = [&](int e) { return S::load(s + e * kp); };
        const Index lanes = min_index(L, p.K - k0);
        // Calls emit(i, j, phase row, phase column, value) for output (i, j) of every phase.
        const auto phases = [&](auto&& emit) {
          transform_2d<5, 4, Vec>([&](int i, int j) { return at(i * 5 + j); },
                                  [](const Vec (&a)[5], Vec (&o)[4]) { X::output(a, o); },
                                  [&](int i, int j, Vec o) { emit(i, j, 0, 0, o); });
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) {
            Vec eo[5], oe[5], res[4];
#pragma GCC unroll 5
            for (int a = 0; a < 5; ++a) {
              eo[a] = at(X::kEvenOdd(a, q));
              oe[a] = at(X::kOddEven(q, a));
            }
            X::output(eo, res);
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) emit(i, q, 0, 1, res[i]);
            X::output(oe, res);
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) emit(q, j, 1, 0, res[j]);
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) emit(q, j, 1, 1, at(65 + q * 4 + j));
          }
        };
        if constexpr (kInputGradient) {  // phase output (i, j) is dx (2i + row, 2j + column)
          const Index ih0 = (r / tw) * 8 - p.pad_top, iw0 = (r % tw) * 8 - p.pad_left;
          phases([&](int i, int j, int row, int column, Vec o) {
            const Index ih = ih0 + 2 * i + row, iw = iw0 + 2 * j + column;
            if (ih >= 0 && ih < p.OH && iw >= 0 && iw < p.OW)
              store_lanes(y + ((n * p.OH + ih) * p.OW + iw) * p.K + k0, o, lanes);
          });
        } else {  // y tile = their sum (+ bias, relu), stored where it lies inside the output
          const Index oh0 = (r / tw) * 4, ow0 = (r % tw) * 4;
          const Index rows = min_index(4, p.OH - oh0), cols = min_index(4, p.OW - ow0);
          Vec out[4][4];
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) out[i][j] = S::zero();
          phases([&](int i, int j, int, int, Vec o) { out[i][j] += o; });
          const Vec b = bias != nullptr ? load_lanes(bias + k0, p.K - k0) : S::zero();
          for (Index i = 0; i < rows; ++i)
            for (Index j = 0; j < cols; ++j) {
              Vec o = out[i][j] + b;
              if (relu) o = S::relu(o);
              store_lanes(y + ((n * p.OH + oh0 + i) * p.OW + ow0 + j) * p.K + k0, o, lanes);
            }
        }
      }
    }
  });
}

// d[e * stride + k] for the 81 patch positions e of the dy tile `tile` (zero outside the output;
// see Stride2): the transposes of the forward pass's output transforms, A dy A^T, A dy, dy A^T
// and dy. Adds the tile's dy to db_t (kp values) unless null.
template <typename T>
void transform_dy_stride2(const Problem& p, const T* dy, Index tile, T* d, Index stride,
                          T* db_t) {
  using X = Stride2;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index L = S::kLanes, B = Tile<T>::kBlock;
  const Index kp = ceil_div(p.K, B) * B, th = ceil_div(p.OH, 4), tw = ceil_div(p.OW, 4);
  const Index n = tile / (th * tw), r = tile % (th * tw);
  const Index oh0 = (r / tw) * 4, ow0 = (r % tw) * 4;
  for (Index k0 = 0; k0 < kp; k0 += L) {
    const auto put = [&](int e, Vec value) { S::store(d + e * stride + k0, value); };
    Vec y[4][4], total = S::zero();
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const bool in = oh0 + i < p.OH && ow0 + j < p.OW && k0 < p.K;
        y[i][j] = in ? load_lanes(dy + ((n * p.OH + oh0 + i) * p.OW + ow0 + j) * p.K + k0,
                                  p.K - k0)
                     : S::zero();
        total += y[i][j];
      }
    transform_2d<4, 5, Vec>([&](int i, int j) { return y[i][j]; },
                            [](const Vec (&a)[4], Vec (&o)[5]) { X::spread(a, o); },
                            [&](int a, int b, Vec value) { put(a * 5 + b, value); });
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      Vec column[4], out[5];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) column[i] = y[i][q];
      X::spread(column, out);
#pragma GCC unroll 5
      for (int a = 0; a < 5; ++a) put(X::kEvenOdd(a, q), out[a]);
      X::spread(y[q], out);
#pragma GCC unroll 5
      for (int b = 0; b < 5; ++b) put(X::kOddEven(q, b), out[b]);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) put(65 + q * 4 + j, y[q][j]);
    }
    if (db_t != nullptr) S::store(db_t + k0, S::load(db_t + k0) + total);
  }
}

// The stride-2 kernel gradient by the transposed phase split: per 4x4 dy tile and its 9x9 input
// patch, each kernel position's sum gains the products of the patch positions that share it
// (as in kernel_gradient, thread-private sums over groups of tiles added in a fixed order), and
// dw's corners are G^T S G (2x2), G^T S (2x1), S G (1x2) and S (1x1) of those sums.
template <typename T>
void kernel_gradient_stride2(const Problem& p, const T* x, const T* dy, T* dw, T* db) {
  using X = Stride2;
  using K = Tile<T>;
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr int E = X::kPositions, KP = X::kKernelPositions;
  constexpr Index B = K::kBlock, L = S::kLanes;
  const Index cp = ceil_div(p.C, L) * L, nkb = ceil_div(p.K, B), kp = nkb * B;
  const Index tiles = p.N * ceil_div(p.OH, 4) * ceil_div(p.OW, 4);
  const Index group = group_size<T>(tiles, wanted_group<T, 4>(p), Split::kFixed);
  const Index ngroups = ceil_div(tiles, group);
  const Index nthreads = min_index(get_num_threads(), std::max<Index>(ngroups, 1));
  const Index per_thread = KP * p.C * kp + kp;  // the summed products, then db
  Buffer<T> partial(nthreads * per_thread);
  zero_partials(partial.data(), nthreads, per_thread);

  for_each_group<T>(tiles, group, E * cp, E * kp, Split::kFixed,
                  [&](Index t0, Index count, T* v, T* d, int thread) {
    T* sum = partial.data() + thread * per_thread;
    for (Index t = 0; t < count; ++t) {
      transform_input_stride2<T, false>(p, x, t0 + t, v + t * cp, group * cp);
      transform_dy_stride2<T>(p, dy, t0 + t, d + t * kp, group * kp,
                              sum + KP * p.C * kp);
    }
    for (int e = 0; e < E; ++e)
      for_each_tile(p.C, K::kPixels, [&](Index c0, auto np) {
        position_products<T, decltype(np)::value>(
            count, cp, kp, 0, nkb, v + e * group * cp + c0, d + e * group * kp,
            false, sum + (X::kernel_position(e) * p.C + c0) * kp);
      });
  });

  parallel_for(p.C, [&](Index begin, Index end, int) {
    for (Index c = begin; c < end; ++c)
      for (Index k0 = 0; k0 < p.K; k0 += L) {
        Vec s[KP];
        for (int q = 0; q < KP; ++q) {
          const Index at = (q * p.C + c) * kp + k0;
          s[q] = S::load(partial.data() + at);
          for (Index t = 1; t < nthreads; ++t)
            s[q] += S::load(partial.data() + t * per_thread + at);
        }
        const auto g = [](int a, int i) { return T(X::kG[a][i]); };
        Vec out[3][3];
        for (int i = 0; i < 2; ++i) {
          Vec rows[5];  // (G^T S_ee)[i][b]
          for (int b = 0; b < 5; ++b) {
            rows[b] = S::zero();
            for (int a = 0; a < 5; ++a) rows[b] += g(a, i) * s[a * 5 + b];
          }
          Vec even_odd = S::zero(), odd_even = S::zero();
          for (int a = 0; a < 5; ++a) {
            even_odd += g(a, i) * s[25 + a];
            odd_even += s[30 + a] * g(a, i);
          }
          for (int j = 0; j < 2; ++j) {
            out[2 * i][2 * j] = S::zero();
            for (int b = 0; b < 5; ++b) out[2 * i][2 * j] += rows[b] * g(b, j);
          }
          out[2 * i][1] = even_odd;
          out[1][2 * i] = odd_even;
        }
        out[1][1] = s[35];
        const Index lanes = min_index(L, p.K - k0);
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j)
            store_lanes(dw + ((i * 3 + j) * p.C + c) * p.K + k0, out[i][j], lanes);
      }
  });
  if (db != nullptr) add_copies(partial.data(), nthreads, per_thread, KP * p.C * kp, p.K, db);
}

template <typename T>
void conv2d_forward_winograd(const Conv2dGeometry& g, int m, const T* x, const T* w, const T* b,
                             bool relu, T* y) {
  const Problem p{g.N, g.H, g.W, g.C, g.OH, g.OW, g.OC, g.pad_top, g.pad_left};
  if (m == 4) return run<T, 4>(p, x, w, false, b, relu, y);
  run<T, 2>(p, x, w, false, b, relu, y);
}

template <typename T>
void conv2d_forward_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* w, const T* b,
                                     bool relu, T* y) {
  const Problem p{g.N, g.H, g.W, g.C, g.OH, g.OW, g.OC, g.pad_top, g.pad_left};
  Buffer<T> u(Stride2::kKernelPositions * position_stride<T>(p.C, p.K));
  transform_kernel_stride2<T>(w, p.C, p.K, false, u.data());
  correlate_stride2<T, false>(p, x, u.data(), b, relu, y);
}

template <typename T>
void conv2d_backward_kernel_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* dy,
                                             T* dw, T* db) {
  const Problem p{g.N, g.H, g.W, g.C, g.OH, g.OW, g.OC, g.pad_top, g.pad_left};
  kernel_gradient_stride2<T>(p, x, dy, dw, db);
}

template <typename T>
void conv2d_backward_input_winograd_stride2(const Conv2dGeometry& g, const T* dy, const T* w,
                                            T* dx) {
  const Problem p{g.N, g.OH, g.OW, g.OC, g.H, g.W, g.C, g.pad_top, g.pad_left};
  Buffer<T> u(Stride2::kKernelPositions * position_stride<T>(p.C, p.K));
  transform_kernel_stride2<T>(w, p.C, p.K, true, u.data());
  correlate_stride2<T, true>(p, dy, u.data(), nullptr, false, dx);
}

template <typename T>
void conv2d_backward_input_winograd(const Conv2dGeometry& g, int m, const T* dy, const T* w,
                                    T* dx) {
  const Problem p{g.N, g.OH, g.OW, g.OC, g.H, g.W, g.C, 2 - g.pad_top, 2 - g.pad_left};
  if (m == 4) return run<T, 4>(p, dy, w, true, nullptr, false, dx);
  run<T, 2>(p, dy, w, true, nullptr, false, dx);
}

template <typename T>
void conv2d_backward_kernel_winograd(const Conv2dGeometry& g, int m, const T* x, const T* dy, T* dw,
                                     T* db) {
  const Problem p{g.N, g.H, g.W, g.C, g.OH, g.OW, g.OC, g.pad_top, g.pad_left};
  if (m == 4) return kernel_gradient<T, 4>(p, x, dy, dw, db);
  kernel_gradient<T, 2>(p, x, dy, dw, db);
}

}  // namespace

template <typename T>
void fill_winograd_kernels(KernelSet<T>* set) {
  set->conv2d_forward_winograd = &conv2d_forward_winograd<T>;
  set->conv2d_forward_winograd_stride2 = &conv2d_forward_winograd_stride2<T>;
  set->conv2d_backward_input_winograd_stride2 = &conv2d_backward_input_winograd_stride2<T>;
  set->conv2d_backward_kernel_winograd_stride2 = &conv2d_backward_kernel_winograd_stride2<T>;
  set->conv2d_backward_input_winograd = &conv2d_backward_input_winograd<T>;
  set->conv2d_backward_kernel_winograd = &conv2d_backward_kernel_winograd<T>;
}
template void fill_winograd_kernels<float>(KernelSet<float>*);
template void fill_winograd_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
