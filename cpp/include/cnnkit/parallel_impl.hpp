// OpenMP implementation of parallel_for; kept apart so a thread pool can replace it.
#pragma once

#include <omp.h>

#include <atomic>

#include "cnnkit/denormals.hpp"

namespace cnnkit {
namespace {

template <typename Body>
void parallel_for(Index count, Body&& body) {
  if (count <= 0) return;
  const int nthreads = static_cast<int>(count < get_num_threads() ? count : get_num_threads());
  if (nthreads == 1) {
    const FlushDenormals flush;
    body(Index{0}, count, 0);
    return;
  }
#pragma omp parallel num_threads(nthreads)
  {
    const FlushDenormals flush;  // on every thread of the team, restored before it leaves
    // Split between the threads the team has, which may be fewer than asked for (parallel.hpp).
    const int t = omp_get_thread_num();
    Index begin, end;
    split_range(count, omp_get_num_threads(), t, &begin, &end);
    if (begin < end) body(begin, end, t);
  }
}

template <typename Body>
void parallel_for_dynamic(Index count, Body&& body) {
  std::atomic<Index> taken{0};
  const auto next = [&] {
    const Index item = taken.fetch_add(1, std::memory_order_relaxed);
    return item < count ? item : Index{-1};
  };
  parallel_for(count, [&](Index, Index, int thread) { body(next, thread); });
}

}  // namespace
}  // namespace cnnkit
