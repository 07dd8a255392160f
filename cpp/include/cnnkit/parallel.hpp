// The thread count of the core and the one helper every kernel parallelises with.
#pragma once

#include <cstring>

#include "cnnkit/common.hpp"
#include "cnnkit/workspace.hpp"  // the per-thread scratch (Buffer) that bodies use

namespace cnnkit {

// Default: CNNKIT_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on.
int get_num_threads();
void set_num_threads(int n);  // 1 <= n <= 4096, else std::invalid_argument

// Internal linkage (unnamed namespace): these are compiled into kernel translation units built
// with different ISA flags, and one shared inline copy could hand AVX2 code to a baseline caller.
namespace {

// The static split of [0, count) used by parallel_for: the range of thread t of nthreads.
inline void split_range(Index count, int nthreads, int t, Index* begin, Index* end) {
  const Index base = count / nthreads, extra = count % nthreads;
  *begin = t * base + (t < extra ? t : extra);
  *end = *begin + base + (t < extra ? 1 : 0);
}

// Runs body(begin, end, thread_index) on min(count, get_num_threads()) threads, or as many as
// OpenMP gives the team (fewer under OMP_THREAD_LIMIT or OMP_DYNAMIC, one inside another parallel
// region), each on one contiguous range, the same split for the same team: per-thread partial
// results and the order in which they are reduced are reproducible for a given thread count, and
// thread_index stays below min(count, get_num_threads()). Every thread runs body with
// denormals flushed to zero (denormals.hpp) and gets its own control register back afterwards.
template <typename Body>
void parallel_for(Index count, Body&& body);

// Runs body(next, thread_index) once on each of min(count, get_num_threads()) threads; next()
// hands out the items of [0, count) in order, one at a time, to whichever thread asks, and -1
// once none is left. For items that write disjoint outputs, so results do not depend on which
// thread ran which item: a thread that the host slows down takes fewer items instead of keeping
// the others waiting at the end (body may set up per-thread scratch before its first next()).
template <typename Body>
void parallel_for_dynamic(Index count, Body&& body);

// Zeroes `count` buffers of `size` elements at `data`, one per thread: the thread-private sums
// of a reduction, megabytes each for a Winograd kernel gradient, too much for one thread to clear.
template <typename T>
void zero_partials(T* data, Index count, Index size) {
  if (size == 0) return;  // data may be null
  parallel_for(count, [&](Index begin, Index end, int) {
    std::memset(data + begin * size, 0, sizeof(T) * (end - begin) * size);
  });
}

}  // namespace
}  // namespace cnnkit

#include "cnnkit/parallel_impl.hpp"
