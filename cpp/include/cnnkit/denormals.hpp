// Flush-to-zero and denormals-are-zero for the lifetime of a scope, on the calling thread.
//
// Denormal (subnormal) operands and results take a microcode assist on most CPUs that makes
// vector code 10-100x slower, so kernels treat denormal inputs as zero and flush denormal
// results to zero. The floating-point control register is per thread: the guard saves it, sets
// the flush bits and restores the saved value on exit, so the caller's numerics (numpy on the
// Python thread, other code on OpenMP workers) are left exactly as they were.
#pragma once

#include <cstdint>

namespace cnnkit {

// Internal linkage: this header is compiled into kernel translation units built with different
// ISA flags (see parallel.hpp), whose inline copies must not be shared with baseline callers.
namespace {

class FlushDenormals {
 public:
// The register is read and written by volatile asm with a memory clobber: the compiler keeps
// every load and store of the guarded code, and so the arithmetic between them, inside the
// scope (the _mm_setcsr intrinsic lets it move arithmetic past the switch).
#if defined(__SSE__)
  static constexpr std::uint64_t kBits = 0x8040;  // MXCSR: FTZ (bit 15) | DAZ (bit 6)
  static std::uint64_t read() {
    unsigned v;
    __asm__ __volatile__("stmxcsr %0" : "=m"(v) : : "memory");
    return v;
  }
  static void write(std::uint64_t v) {
    const unsigned u = static_cast<unsigned>(v);
    __asm__ __volatile__("ldmxcsr %0" : : "m"(u) : "memory");
  }
#elif defined(__aarch64__)
  static constexpr std::uint64_t kBits = std::uint64_t(1) << 24;  // FPCR.FZ: inputs and results
  static std::uint64_t read() {
    std::uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v) : : "memory");
    return v;
  }
  static void write(std::uint64_t v) { __asm__ __volatile__("msr fpcr, %0" : : "r"(v) : "memory"); }
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
