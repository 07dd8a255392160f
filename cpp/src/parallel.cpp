// The one place that reads CNNKIT_NUM_THREADS and owns the thread count.
#include "cnnkit/parallel.hpp"

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace cnnkit {
namespace {

// A positive integer from the environment variable, or 0 when unset or malformed.
int threads_from_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || n < 1 || n > 4096) return 0;
  return static_cast<int>(n);
}

int default_num_threads() {
  if (int n = threads_from_env("CNNKIT_NUM_THREADS")) return n;
  if (int n = threads_from_env("OMP_NUM_THREADS")) return n;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
  return 1;
}

std::atomic<int> g_num_threads{0};  // 0 until first read

}  // namespace

int get_num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = default_num_threads();
    g_num_threads.store(n, std::memory_order_relaxed);
  }
  return n;
}

void set_num_threads(int n) {
  CNNKIT_CHECK(n >= 1 && n <= 4096, "num_threads must be between 1 and 4096, got " << n);
  g_num_threads.store(n, std::memory_order_relaxed);
}

}  // namespace cnnkit
