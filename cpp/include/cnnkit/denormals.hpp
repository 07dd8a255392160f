// Flush-to-zero and denormals-are-zero for the lifetime of a scope, on the calling thread.
//
// Denormal (subnormal) operands and results take a microcode assist on most CPUs that makes
// vector code 10-100x slower, so kernels treat denormal inputs as zero and flush denormal
// results to zero. The floating-point control register is per thread: the guard saves it, sets
// the flush bits and restores the saved value on exit, so the caller's numerics (numpy on the
// Python thread, other code on OpenMP workers) are left exactly as they were.
#pragma once

#include <cstdint>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace cnnkit {

// Internal linkage: this header is compiled into kernel translation units built with different
// ISA flags (see parallel.hpp), and on x86 the register access compiles to a VEX instruction
// under AVX.
namespace {

class FlushDenormals {
 public:
#if defined(__SSE__)
  static constexpr std::uint64_t kBits = 0x8040;  // MXCSR: FTZ (bit 15) | DAZ (bit 6)
  static std::uint64_t read() { return _mm_getcsr(); }
  static void write(std::uint64_t v) { _mm_setcsr(static_cast<unsigned>(v)); }
#elif defined(__aarch64__)
  static constexpr std::uint64_t kBits = std::uint64_t(1) << 24;  // FPCR.FZ: inputs and results
  static std::uint64_t read() {
    std::uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return v;
  }
  static void write(std::uint64_t v) { __asm__ __volatile__("msr fpcr, %0" : : "r"(v)); }
#else
  static constexpr std::uint64_t kBits = 0;  // no control to set: denormals stay exact
  static std::uint64_t read() { return 0; }
  static void write(std::uint64_t) {}
#endif

  // The full saved value is written back, sticky exception flags included: the caller sees no
  // trace of the kernel in its control register.
  FlushDenormals() : saved_(read()) { write(saved_ | kBits); }
  ~FlushDenormals() { write(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  std::uint64_t saved_;
};

}  // namespace
}  // namespace cnnkit
