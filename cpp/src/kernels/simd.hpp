// Portable SIMD vectors (GCC/Clang vector extensions) sized by the ISA this file is compiled for.
//
// Included only by kernel translation units, inside namespace cnnkit::CNNKIT_ISA, so that every
// inline function here is a distinct symbol per ISA: no AVX2 code can leak into baseline callers.
#pragma once

#include <cstring>

#ifndef CNNKIT_VEC_BYTES
#error "kernel translation units are compiled with CNNKIT_VEC_BYTES (16, 32 or 64)"
#endif
#if CNNKIT_VEC_BYTES == 64
#include <immintrin.h>
#endif

template <typename T>
struct Simd {
  static constexpr int kLanes = CNNKIT_VEC_BYTES / sizeof(T);
  static constexpr Index kLineValues = 64 / sizeof(T);  // values per cache line (prefetch steps)
  typedef T Vec __attribute__((vector_size(CNNKIT_VEC_BYTES)));

  static inline Vec load(const T* p) {
    Vec v;
    std::memcpy(&v, p, sizeof(Vec));
    return v;
  }
  static inline void store(T* p, Vec v) { std::memcpy(p, &v, sizeof(Vec)); }
  // Writes v as T values: GCC knows such a write leaves the sizes and pointers a loop keeps in
  // memory unchanged, where after a memcpy (store) it reloads them all. The Winograd input
  // transforms, long runs of stores, gain from it (k forward +11-23%); the tiles keep store,
  // since with this one GCC inlined them differently and a's and c's forward lost 5%.
  typedef T UnalignedVec __attribute__((vector_size(CNNKIT_VEC_BYTES), aligned(alignof(T))));
  static inline void store_values(T* p, Vec v) { *reinterpret_cast<UnalignedVec*>(p) = v; }
  // AVX-512: a store that bypasses the caches, p 64-byte aligned (the line is written whole
  // without being read first); writers end with fence() before other threads read what they
  // wrote. Other widths store as usual.
  static inline void stream(T* p, Vec v) {
#if CNNKIT_VEC_BYTES == 64
    if constexpr (sizeof(T) == 4)
      _mm512_stream_ps(p, reinterpret_cast<__m512>(v));
    else
      _mm512_stream_pd(p, reinterpret_cast<__m512d>(v));
#else
    store(p, v);
#endif
  }
  static inline void fence() {
#if CNNKIT_VEC_BYTES == 64
    _mm_sfence();
#endif
  }
  // s - 0 is s for every s (0 + s would turn -0 into +0), so this compiles to one broadcast
  // instead of an add on the FMA ports and a shuffle.
  static inline Vec broadcast(T s) { return s - Vec{}; }
  static inline Vec zero() { return Vec{}; }
  static inline Vec relu(Vec v) { return v > zero() ? v : zero(); }
};

inline Index min_index(Index a, Index b) { return a < b ? a : b; }
inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }
