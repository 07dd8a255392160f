// Scratch memory for kernels without allocating in the steady state.
//
// Each thread owns an arena: a grow-only stack of memory from which Buffer takes its bytes and
// to which it gives them back in reverse order (Buffers are scoped objects, so destruction order
// is the stack order). When a call needs more than the arena holds, the arena adds a chunk; once
// its stack is empty again it replaces its chunks with a single one as large as the most it ever
// held at once. A second call with the same shapes therefore allocates nothing. The price: every
// thread that ran kernels (the caller and each OpenMP worker) keeps its high-water mark of
// scratch memory until the thread exits.
//
// Under AddressSanitizer, the memory no Buffer holds, and a 64-byte redzone after each Buffer, are
// poisoned, so overruns and use after release are still reported.
#pragma once

#include <cstddef>

#include "cnnkit/common.hpp"

namespace cnnkit {

// Chunks that the arenas of all threads have allocated so far (each one malloc call).
Index workspace_allocations();

// `bytes` of uninitialised memory, 64-byte aligned, from the calling thread's arena;
// std::bad_alloc if a new chunk cannot be had.
void* workspace_push(std::size_t bytes);
// Gives back the latest push of the calling thread; aborts if p is not that one.
void workspace_pop(void* p, std::size_t bytes) noexcept;

// Internal linkage: included by kernel translation units built with different ISA flags (see
// parallel.hpp).
namespace {

// `count` uninitialised elements of scratch for the lifetime of a scope, 64-byte aligned (any
// vector type fits), from the calling thread's arena. Create and destroy it on one thread.
template <typename T>
class Buffer {
 public:
  explicit Buffer(Index count)
      : bytes_(count > 0 ? static_cast<std::size_t>(count) * sizeof(T) : 0),
        data_(static_cast<T*>(workspace_push(bytes_))) {}
  ~Buffer() { workspace_pop(data_, bytes_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* data() const { return data_; }

 private:
  std::size_t bytes_;
  T* data_;
};

}  // namespace
}  // namespace cnnkit
