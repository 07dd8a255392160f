// OpenMP implementation of parallel_for; kept apart so a thread pool can replace it.
#pragma once

#include <omp.h>

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
    const int t = omp_get_thread_num();
    Index begin, end;
    split_range(count, nthreads, t, &begin, &end);
    if (begin < end) body(begin, end, t);
  }
}

}  // namespace
}  // namespace cnnkit
