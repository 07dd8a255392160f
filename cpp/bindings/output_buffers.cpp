// The pool of returned arrays' memory (output_buffers.hpp).
#include "output_buffers.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace cnnkit {
namespace {

constexpr std::size_t kAlign = 64;                 // the header's room, and the data's alignment
constexpr std::size_t kMinPooled = 1 << 20;        // smaller buffers go straight back to malloc
constexpr std::size_t kMaxPooledBytes = 256 << 20;
constexpr std::size_t kMaxPooledBuffers = 16;
constexpr std::size_t kHugePage = 2 << 20;

struct Pool {
  std::mutex mutex;
  std::vector<void*> blocks;  // whole allocations, oldest first
  std::size_t bytes = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: arrays may be freed during interpreter exit
  return *p;
}

// An allocation is kAlign bytes of header (its data size) followed by the data.
std::size_t data_bytes(void* block) {
  std::size_t bytes;
  std::memcpy(&bytes, block, sizeof(bytes));
  return bytes;
}

}  // namespace

void* acquire_output(std::size_t bytes) {
  if (bytes >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (std::size_t i = p.blocks.size(); i-- > 0;) {  // the most recently freed first
      void* block = p.blocks[i];
      if (data_bytes(block) != bytes) continue;
      p.blocks.erase(p.blocks.begin() + std::ptrdiff_t(i));
      p.bytes -= bytes;
      return static_cast<char*>(block) + kAlign;
    }
  }
  // Pooled sizes start on a huge-page boundary and ask for huge pages, as numpy does for large
  // arrays: fewer TLB misses while the kernels stream through them.
  const std::size_t align = bytes >= kMinPooled ? kHugePage : kAlign;
  const std::size_t size = (kAlign + bytes + align - 1) / align * align;
  void* block = std::aligned_alloc(align, size);
  if (block == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) madvise(block, size, MADV_HUGEPAGE);
#endif
  std::memcpy(block, &bytes, sizeof(bytes));
  return static_cast<char*>(block) + kAlign;
}

void release_output(void* data) {
  void* block = static_cast<char*>(data) - kAlign;
  const std::size_t bytes = data_bytes(block);
  if (bytes < kMinPooled || bytes > kMaxPooledBytes) return std::free(block);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  while (!p.blocks.empty() &&
         (p.blocks.size() >= kMaxPooledBuffers || p.bytes + bytes > kMaxPooledBytes)) {
    p.bytes -= data_bytes(p.blocks.front());  // drop the oldest
    std::free(p.blocks.front());
    p.blocks.erase(p.blocks.begin());
  }
  p.blocks.push_back(block);
  p.bytes += bytes;
}

}  // namespace cnnkit
