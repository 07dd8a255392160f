// Measures what the benchmarks compare against: the FMA peak and the memory bandwidth.
//
//   peak fma THREADS    GFLOP/s of back-to-back vector FMAs on independent accumulators
//   peak triad THREADS  GB/s of a[i] = b[i] + s * c[i] over arrays far larger than the caches
//
// Built by benchmarks/_bench.py with the instruction-set flags of the kernel path being measured
// (-mavx2 -mfma or -mavx512f ...), so the vector width below is that path's width.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif
typedef float Vec __attribute__((vector_size(kVecBytes)));
constexpr int kLanes = kVecBytes / sizeof(float);
constexpr int kAcc = 12;  // independent chains: covers FMA latency x 2 ports, fits 16 registers

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Best of several timed runs, all threads running FMA chains at once.
double fma_gflops(int threads) {
  const long iters = 20000000;
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    float sink = 0;
    const double t0 = seconds();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      Vec acc[kAcc];
      const Vec a = Vec{} + 0.999999f, b = Vec{} + 1e-7f;
      for (int i = 0; i < kAcc; ++i) acc[i] = Vec{} + float(i + omp_get_thread_num());
      for (long it = 0; it < iters / kAcc; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < kAcc; ++i) acc[i] = acc[i] * a + b;
      }
      for (int i = 0; i < kAcc; ++i) sink += acc[i][0];
    }
    const double t = seconds() - t0;
    if (sink == 42.0f) std::puts("");
    const double flops = 2.0 * kLanes * double(iters / kAcc * kAcc) * threads;
    if (flops / t / 1e9 > best) best = flops / t / 1e9;
  }
  return best;
}

double triad_gbps(int threads) {
  const size_t n = size_t(1) << 25;  // 128 MiB per array
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  double best = 0;
  for (int trial = 0; trial < 6; ++trial) {
    const double t0 = seconds();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + 0.5f * c[i];
    const double t = seconds() - t0;
    if (trial > 0 && 3.0 * n * sizeof(float) / t / 1e9 > best) best = 3.0 * n * sizeof(float) / t / 1e9;
  }
  if (a[n / 2] != 2.0f) std::puts("triad mismatch");
  return best;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s fma|triad THREADS\n", argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[2]);
  if (std::strcmp(argv[1], "fma") == 0) {
    std::printf("%.3f\n", fma_gflops(threads));
  } else {
    std::printf("%.3f\n", triad_gbps(threads));
  }
  return 0;
}
