// The gradient through a ReLU, which training runs on every conv and Dense output each step.
//
//   relu_backward: dx = dy * (y > 0) for `count` elements, given the ReLU's output y. A NaN in dy
//   stays NaN, as in the product (it is not replaced by zero where y <= 0).
// dx may be dy. Denormal gradients are flushed to zero, as in every kernel.
#pragma once

#include "cnnkit/common.hpp"

namespace cnnkit {

template <typename T>
void relu_backward(Index count, const T* y, const T* dy, T* dx);

}  // namespace cnnkit
