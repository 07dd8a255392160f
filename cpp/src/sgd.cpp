// The SGD update: one parallel pass over the parameter, its gradient and its velocity.
#include "cnnkit/sgd.hpp"

#include <algorithm>

#include "cnnkit/parallel.hpp"

namespace cnnkit {

template <typename T>
void sgd_update(Index count, T* w, const T* g, T* v, T learning_rate, T momentum, bool nesterov) {
  constexpr Index kBlock = Index(1) << 14;  // elements per work item
  parallel_for((count + kBlock - 1) / kBlock, [&](Index begin, Index end, int) {
    const Index first = begin * kBlock, last = std::min(count, end * kBlock);
    if (v == nullptr) {
      for (Index i = first; i < last; ++i) w[i] -= g[i] * learning_rate;
    } else if (nesterov) {
      for (Index i = first; i < last; ++i) {
        const T step = g[i] * learning_rate, velocity = v[i] * momentum - step;
        v[i] = velocity;
        w[i] = (w[i] - step) + velocity * momentum;
      }
    } else {
      for (Index i = first; i < last; ++i) {
        v[i] = v[i] * momentum - g[i] * learning_rate;
        w[i] += v[i];
      }
    }
  });
}

template void sgd_update<float>(Index, float*, const float*, float*, float, float, bool);
template void sgd_update<double>(Index, double*, const double*, double*, double, double, bool);

}  // namespace cnnkit
