// The register-tiled micro-kernel of the convolutions (forward, backward-input, and the products
// of the Winograd transforms).
//
// A tile is NP rows of the product (output pixels, or transformed tiles) by kVecs vectors of output
// channels (one packed block of kBlock channels). It keeps NP*kVecs accumulators in registers
// while it reduces over taps x R: per step it loads kVecs weight vectors, broadcasts NP inputs
// and issues NP*kVecs fused multiply-adds. Included inside namespace cnnkit::CNNKIT_ISA.
#pragma once

template <typename T>
struct Tile {
  using S = Simd<T>;
  using Vec = typename S::Vec;
  // Rows of the tile: 6 x 2 vectors (BLIS's 6x16) fits AVX2's 16 registers; AVX-512's 32 take
  // 12 x 2, which halves the weight loads per FMA.
  static constexpr int kPixels = CNNKIT_VEC_BYTES == 64 ? 12 : 6;
  static constexpr int kVecs = 2;
  static constexpr Index kBlock = kVecs * S::kLanes;  // channels per packed weight block

  // acc[p] += sum_{r < R} in(p, r) * wt[r*ldw + 0..kBlock): the loop every accumulate and the
  // kernel gradients' sums of outer products run. The sums live in a local copy, which GCC keeps
  // in registers; given the caller's array it stored the accumulators to memory at every step.
  template <int NP, typename InFn>
  __attribute__((always_inline)) static inline void reduce(Index R, const T* wt, Index ldw,
                                                           InFn&& in, Vec (&sums)[NP][kVecs]) {
    Vec acc[NP][kVecs];
    std::memcpy(acc, sums, sizeof(acc));
    for (Index r = 0; r < R; ++r) {
      Vec w[kVecs];
#pragma GCC unroll 4
      for (int j = 0; j < kVecs; ++j) w[j] = S::load(wt + r * ldw + j * S::kLanes);
#pragma GCC unroll 12
      for (int p = 0; p < NP; ++p) {
        const Vec xv = S::broadcast(in(p, r));
#pragma GCC unroll 4
        for (int j = 0; j < kVecs; ++j) acc[p][j] += xv * w[j];
      }
    }
    std::memcpy(sums, acc, sizeof(acc));
  }

  // acc[p] += sum_{t < taps, r < R} src(t, p)[r] * wp[(t*R + r)*kBlock + 0..kBlock).
  // src(t, p) returns the R inputs of row p at tap t, or nullptr where that tap reads padding.
  template <int NP, typename SrcFn>
  static inline void accumulate(Index taps, Index R, const T* wp, const T* zeros, SrcFn&& src,
                                Vec (&acc)[NP][kVecs]) {
    for (Index t = 0; t < taps; ++t) {
      const T* s[NP];
      bool any = false;
      for (int p = 0; p < NP; ++p) {
        s[p] = src(t, p);
        any |= s[p] != nullptr;
        if (s[p] == nullptr) s[p] = zeros;
      }
      if (any)
        reduce<NP>(R, wp + t * R * kBlock, kBlock, [&](int p, Index r) { return s[p][r]; }, acc);
    }
  }

  // As accumulate, for tiles whose rows read inputs `stride` apart at every step: row(t) returns
  // row 0's R inputs at step t, or nullptr where the whole step reads padding. Computing one
  // pointer per step instead of NP is what short steps (first layers' kernel rows) need.
  template <int NP, typename RowFn>
  static inline void accumulate_strided(Index taps, Index R, const T* wp, Index stride, RowFn&& row,
                                        Vec (&acc)[NP][kVecs]) {
    for (Index t = 0; t < taps; ++t) {
      const T* s = row(t);
      if (s != nullptr)
        reduce<NP>(R, wp + t * R * kBlock, kBlock,
                   [&](int p, Index r) { return s[p * stride + r]; }, acc);
    }
  }

  // Writes the first `count` (<= kBlock) channels of each accumulator row p to out + p*stride.
  // Whole blocks take a branch-free unrolled path of their own: with the partial-block copy in
  // the same loop GCC spilled every accumulator to the stack first (a's forward +2%).
  template <int NP>
  static inline void store(const Vec (&acc)[NP][kVecs], Index count, bool relu, T* out,
                           Index stride) {
    if (count == kBlock) {
      if (relu)
        store_block<NP, true>(acc, out, stride);
      else
        store_block<NP, false>(acc, out, stride);
      return;
    }
    for (int p = 0; p < NP; ++p) {
      Vec v[kVecs];
      for (int j = 0; j < kVecs; ++j) v[j] = relu ? S::relu(acc[p][j]) : acc[p][j];
      T lanes[kBlock];
      std::memcpy(lanes, v, sizeof(lanes));
      for (Index i = 0; i < count; ++i) out[p * stride + i] = lanes[i];
    }
  }
  template <int NP, bool kRelu>
  __attribute__((always_inline)) static inline void store_block(const Vec (&acc)[NP][kVecs],
                                                                T* out, Index stride) {
#pragma GCC unroll 12
    for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < kVecs; ++j)
        S::store(out + p * stride + j * S::kLanes, kRelu ? S::relu(acc[p][j]) : acc[p][j]);
  }

  // Loads the first `count` (<= kBlock) channels of row p from in + p*stride (zero past count):
  // the inverse of store, for accumulating in several passes.
  template <int NP>
  static inline void load(const T* in, Index stride, Index count, Vec (&acc)[NP][kVecs]) {
    for (int p = 0; p < NP; ++p) {
      if (count == kBlock) {
        for (int j = 0; j < kVecs; ++j) acc[p][j] = S::load(in + p * stride + j * S::kLanes);
      } else {
        T lanes[kBlock] = {};
        for (Index i = 0; i < count; ++i) lanes[i] = in[p * stride + i];
        std::memcpy(acc[p], lanes, sizeof(lanes));
      }
    }
  }

  // Sets every accumulator row to the kBlock values at `init` (zero when null).
  template <int NP>
  static inline void init(const T* init, Vec (&acc)[NP][kVecs]) {
    for (int p = 0; p < NP; ++p)
      for (int j = 0; j < kVecs; ++j)
        acc[p][j] = init ? S::load(init + j * S::kLanes) : S::zero();
  }
};

// Calls f(std::integral_constant<int, n>) for 1 <= n <= Tile::kPixels: the tail of a row gets a
// narrower tile instead of a scalar loop.
template <typename F>
inline void with_rows(int n, F&& f) {
  switch (n) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
#if CNNKIT_VEC_BYTES == 64
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 9: f(std::integral_constant<int, 9>{}); break;
    case 10: f(std::integral_constant<int, 10>{}); break;
    case 11: f(std::integral_constant<int, 11>{}); break;
    default: f(std::integral_constant<int, 12>{}); break;
#else
    default: f(std::integral_constant<int, 6>{}); break;
#endif
  }
}

// Covers [0, count) with the fewest tiles of at most kPixels rows, their sizes differing by at
// most one (14 -> 5, 5, 4 rather than 6, 6, 2: a 2-row tile has too few accumulators to hide the
// FMA latency). Calls f(first, std::integral_constant<int, rows>) for each tile in order.
template <typename F>
inline void for_each_tile(Index count, int max_rows, F&& f) {
  if (count <= 0) return;
  const Index tiles = (count + max_rows - 1) / max_rows, base = count / tiles;
  const Index extra = count % tiles;
  Index first = 0;
  for (Index i = 0; i < tiles; ++i) {
    const int rows = int(base + (i < extra ? 1 : 0));
    with_rows(rows, [&](auto np) { f(first, np); });
    first += rows;
  }
}
