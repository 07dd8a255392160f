// Memory for the arrays the ops return, kept for reuse when Python frees them.
//
// A training step (or a benchmark loop) asks for arrays of the same sizes again and again. Fresh
// large arrays cost page faults on every call, and numpy's huge-page requests can stall those
// faults for milliseconds while the kernel compacts memory; a freed output is kept instead and
// handed to the next request of the same size. The pool is bounded (16 buffers, 256 MiB) and
// holds only buffers of 1 MiB or more, which start on a huge-page boundary and ask for huge pages
// once, when they are first allocated. Called with the GIL held.
#pragma once

#include <cstddef>

namespace cnnkit {

// At least `bytes` bytes, 64-byte aligned; give them back with release_output.
void* acquire_output(std::size_t bytes);
void release_output(void* data);

}  // namespace cnnkit
