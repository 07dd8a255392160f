// The SGD update of one parameter array, in place, in one pass over its memory.
//
//   step = lr * g;  without momentum (v null): w -= step
//   with momentum:  v = momentum * v - step, then w = (w - step) + momentum * v (nesterov)
//                   or w += v
// The same operations, in the same order and precision, as the numpy update they replace, so
// the results are bitwise equal to it wherever the compiler does not fuse multiply-adds
// (x86-64 baseline code never does), denormals aside: they are flushed to zero, as in every kernel.
#pragma once

#include "cnnkit/common.hpp"

namespace cnnkit {

template <typename T>
void sgd_update(Index count, T* w, const T* g, T* v, T learning_rate, T momentum, bool nesterov);

}  // namespace cnnkit
