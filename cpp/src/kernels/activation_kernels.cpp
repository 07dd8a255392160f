// The ReLU gradient dx = dy * (y > 0), vectorised and split between the threads in blocks: a
// single memory-bound pass. Compiled once per ISA.
#include "cnnkit/parallel.hpp"
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#include "kernels/simd.hpp"

namespace {

template <typename T>
void relu_backward(Index count, const T* y, const T* dy, T* dx) {
  using S = Simd<T>;
  using Vec = typename S::Vec;
  constexpr Index L = S::kLanes, kBlock = Index(1) << 14;  // elements per work item
  parallel_for(ceil_div(count, kBlock), [&](Index begin, Index end, int) {
    const Index last = min_index(count, end * kBlock);
    const Vec one = S::broadcast(T(1)), zero = S::zero();
    Index i = begin * kBlock;
    // A product, not a select: a NaN in dy stays NaN where y <= 0, as in dy * (y > 0).
    for (; i + L <= last; i += L)
      S::store(dx + i, S::load(dy + i) * (S::load(y + i) > zero ? one : zero));
    for (; i < last; ++i) dx[i] = dy[i] * (y[i] > T(0) ? T(1) : T(0));
  });
}

}  // namespace

template <typename T>
void fill_activation_kernels(KernelSet<T>* set) {
  set->relu_backward = &relu_backward<T>;
}
template void fill_activation_kernels<float>(KernelSet<float>*);
template void fill_activation_kernels<double>(KernelSet<double>*);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
