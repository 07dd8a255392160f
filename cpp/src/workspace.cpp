// The per-thread scratch arenas behind Buffer: see cnnkit/workspace.hpp.
#include "cnnkit/workspace.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CNNKIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CNNKIT_ASAN 1
#endif
#endif
#ifdef CNNKIT_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace cnnkit {
namespace {

constexpr std::size_t kAlign = 64;
#ifdef CNNKIT_ASAN
constexpr std::size_t kRedzone = 64;  // poisoned bytes after each push: overruns hit them
#else
constexpr std::size_t kRedzone = 0;
#endif
constexpr std::size_t kFirstChunk = std::size_t(64) << 10;

void poison(void* p, std::size_t bytes) {
#ifdef CNNKIT_ASAN
  ASAN_POISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}
void unpoison(void* p, std::size_t bytes) {
#ifdef CNNKIT_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}

std::atomic<Index> g_allocations{0};

// The bytes a push of `bytes` takes from the stack: whole alignment units, then the redzone.
std::size_t footprint(std::size_t bytes) {
  if (bytes > (std::size_t(-1) >> 2)) throw std::bad_alloc();
  return (bytes + kAlign - 1) / kAlign * kAlign + kRedzone;
}

struct Chunk {
  char* base;
  std::size_t size, used;
};

Chunk allocate(std::size_t size) {
  char* base = static_cast<char*>(std::aligned_alloc(kAlign, size));
  if (base == nullptr) throw std::bad_alloc();
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  poison(base, size);
  return Chunk{base, size, 0};
}

void release(const Chunk& chunk) {
  unpoison(chunk.base, chunk.size);
  std::free(chunk.base);
}

// A stack over chunks_[0..current_]; chunks after current_ are empty spares kept for the next
// overflow, so a Buffer pushed and popped in a loop past the end of a chunk allocates once.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (const Chunk& chunk : chunks_) release(chunk);
  }

  void* push(std::size_t bytes) {
    const std::size_t need = footprint(bytes);
    if (chunks_.empty() || chunks_[current_].used + need > chunks_[current_].size) advance(need);
    Chunk& chunk = chunks_[current_];
    char* p = chunk.base + chunk.used;
    chunk.used += need;
    live_ += need;
    high_water_ = std::max(high_water_, live_);
    ++depth_;
    unpoison(p, bytes);
    return p;
  }

  void pop(void* p, std::size_t bytes) noexcept {
    const std::size_t need = footprint(bytes);
    Chunk* chunk = chunks_.empty() ? nullptr : &chunks_[current_];
    if (chunk == nullptr || static_cast<char*>(p) + need != chunk->base + chunk->used) {
      std::fprintf(stderr, "cnnkit: workspace buffers released out of order\n");
      std::abort();
    }
    chunk->used -= need;
    live_ -= need;
    --depth_;
    poison(p, need);
    while (current_ > 0 && chunks_[current_].used == 0) --current_;
    if (depth_ == 0 && chunks_.size() > 1) coalesce();
  }

 private:
  // Moves the top of the stack to a chunk with room for `need` bytes: the next spare if it is
  // large enough, else a new chunk (replacing the spares, which are too small).
  void advance(std::size_t need) {
    const std::size_t next = chunks_.empty() ? 0 : current_ + 1;
    if (next < chunks_.size() && chunks_[next].size >= need) {
      current_ = next;
      return;
    }
    const std::size_t size =
        std::max(need, chunks_.empty() ? kFirstChunk : 2 * chunks_[current_].size);
    chunks_.reserve(next + 1);  // before allocating: a failure here leaks nothing
    while (chunks_.size() > next) {
      release(chunks_.back());
      chunks_.pop_back();
    }
    chunks_.push_back(allocate(size));
    current_ = next;
  }

  // With the stack empty, one chunk of the high-water mark holds any later stack that is no
  // deeper than every earlier one. Without memory for it, the chunks in hand stay.
  void coalesce() noexcept {
    Chunk one;
    try {
      one = allocate(high_water_);
    } catch (const std::bad_alloc&) {
      return;
    }
    for (const Chunk& chunk : chunks_) release(chunk);
    chunks_.clear();
    chunks_.push_back(one);  // within the capacity already held: no allocation
    current_ = 0;
  }

  std::vector<Chunk> chunks_;
  std::size_t current_ = 0;  // the chunk holding the top of the stack
  std::size_t live_ = 0, high_water_ = 0, depth_ = 0;
};

Arena& this_thread_arena() {
  thread_local Arena arena;
  return arena;
}

}  // namespace

Index workspace_allocations() { return g_allocations.load(std::memory_order_relaxed); }

void* workspace_push(std::size_t bytes) { return this_thread_arena().push(bytes); }

void workspace_pop(void* p, std::size_t bytes) noexcept { this_thread_arena().pop(p, bytes); }

}  // namespace cnnkit
