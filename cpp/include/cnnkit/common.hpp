// Shared vocabulary of the C++ core.
//
// Dimension letters used everywhere (llm.c style):
//   N  batch            H, W   input height and width     C  input channels
//   OH, OW  output height and width                        OC output channels (filters)
//   KH, KW  kernel (or pool window) height and width
// Activations are NHWC, kernels are Keras-ordered (KH, KW, C, OC).
// Names: x, w, b, y for data; dx, dw, db, dy for their gradients.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cnnkit {

using Index = std::int64_t;

// Throws std::invalid_argument (ValueError in Python) when cond is false.
#define CNNKIT_CHECK(cond, message)                          \
  do {                                                       \
    if (!(cond)) {                                           \
      std::ostringstream cnnkit_check_stream_;               \
      cnnkit_check_stream_ << message;                       \
      throw std::invalid_argument(cnnkit_check_stream_.str()); \
    }                                                        \
  } while (0)

}  // namespace cnnkit
