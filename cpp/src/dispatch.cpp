// Chooses the kernel table for this CPU and forwards the public kernel entry points to it.
#include "cnnkit/dispatch.hpp"

#include <atomic>
#include <cstdlib>
#include <vector>

#include "cnnkit/activation.hpp"
#include "cnnkit/conv2d.hpp"
#include "cnnkit/denormals.hpp"
#include "cnnkit/gemm.hpp"
#include "cnnkit/pool2d.hpp"
#include "cnnkit/winograd.hpp"
#include "kernels/kernel_table.hpp"

namespace cnnkit {
namespace {

struct IsaEntry {
  const char* name;
  const KernelTable& (*table)();
  bool (*supported)();
};

// Lowest first.
const std::vector<IsaEntry>& all_isas() {
  static const std::vector<IsaEntry> isas = {
      {"baseline", &baseline::kernel_table, [] { return true; }},
#if defined(__x86_64__) && defined(CNNKIT_HAVE_X86_KERNELS)
      {"avx2", &avx2::kernel_table,
       [] { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }},
      {"avx512", &avx512::kernel_table,
       [] {
         return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
       }},
#endif
  };
  return isas;
}

// The best supported ISA, capped by CNNKIT_ISA when that names a known one.
const KernelTable* initial_table() {
  const char* cap = std::getenv("CNNKIT_ISA");
  const KernelTable* chosen = nullptr;
  for (const IsaEntry& isa : all_isas()) {
    if (!isa.supported()) break;
    chosen = &isa.table();
    if (cap != nullptr && std::string(cap) == isa.name) break;
  }
  return chosen;
}

std::atomic<const KernelTable*> g_table{nullptr};

const KernelTable& table() {
  const KernelTable* t = g_table.load(std::memory_order_acquire);
  if (t == nullptr) {
    t = initial_table();
    g_table.store(t, std::memory_order_release);
  }
  return *t;
}

}  // namespace

template <>
const KernelSet<float>& active_kernels<float>() { return table().f32; }
template <>
const KernelSet<double>& active_kernels<double>() { return table().f64; }

std::vector<std::string> available_isas() {
  std::vector<std::string> names;
  for (const IsaEntry& isa : all_isas()) {
    if (!isa.supported()) break;
    names.emplace_back(isa.name);
  }
  return names;
}

std::string active_isa() { return table().isa; }

void set_isa(const std::string& name) {
  std::string known;
  for (const IsaEntry& isa : all_isas()) {
    if (name == isa.name) {
      CNNKIT_CHECK(isa.supported(), "isa '" << name << "' is not supported by this CPU");
      g_table.store(&isa.table(), std::memory_order_release);
      return;
    }
    known += (known.empty() ? "'" : ", '") + std::string(isa.name) + "'";
  }
  CNNKIT_CHECK(false, "isa must be one of " << known << ", got '" << name << "'");
}

// Every entry point runs with denormals flushed on the calling thread for the whole call, as
// parallel_for does on its threads: this covers kernel work outside parallel_for.
template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, bool relu, T* y) {
  const FlushDenormals flush;
  if (const int m = winograd_tile<T>(g, ConvPass::kForward))
    return active_kernels<T>().conv2d_forward_winograd(g, m, x, w, b, relu, y);
  if (winograd_stride2<T>(g, ConvPass::kForward))
    return active_kernels<T>().conv2d_forward_winograd_stride2(g, x, w, b, relu, y);
  // The GEMM's packed panels beat the convolution tiles on these short reductions (by about a
  // fifth for 64 channels).
  if (is_pointwise(g))
    return active_kernels<T>().gemm(false, false, g.N * g.H * g.W, g.OC, g.C, x, w, b, relu, y);
  active_kernels<T>().conv2d_forward(g, x, w, b, relu, y);
}
template <typename T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  const FlushDenormals flush;
  if (const int m = winograd_tile<T>(g, ConvPass::kBackwardInput))
    return active_kernels<T>().conv2d_backward_input_winograd(g, m, dy, w, dx);
  if (winograd_stride2<T>(g, ConvPass::kBackwardInput))
    return active_kernels<T>().conv2d_backward_input_winograd_stride2(g, dy, w, dx);
  active_kernels<T>().conv2d_backward_input(g, dy, w, dx);
}
template <typename T>
void conv2d_backward_kernel(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* db) {
  const FlushDenormals flush;
  if (const int m = winograd_tile<T>(g, ConvPass::kBackwardKernel))
    return active_kernels<T>().conv2d_backward_kernel_winograd(g, m, x, dy, dw, db);
  if (winograd_stride2<T>(g, ConvPass::kBackwardKernel))
    return active_kernels<T>().conv2d_backward_kernel_winograd_stride2(g, x, dy, dw, db);
  if (is_pointwise(g))  // dw (C, OC) = x^T . dy over the N*H*W pixels, db their dy sums
    return active_kernels<T>().outer_product_sums(g.N * g.H * g.W, g.C, g.OC, x, dy, dw, db);
  active_kernels<T>().conv2d_backward_kernel(g, x, dy, dw, db);
}
template <typename T>
void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y) {
  const FlushDenormals flush;
  active_kernels<T>().max_pool2d_forward(g, x, y);
}
template <typename T>
void max_pool2d_backward(const Conv2dGeometry& g, const T* x, const T* dy, T* dx) {
  const FlushDenormals flush;
  active_kernels<T>().max_pool2d_backward(g, x, dy, dx);
}
template <typename T>
void avg_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y) {
  const FlushDenormals flush;
  active_kernels<T>().avg_pool2d_forward(g, x, y);
}
template <typename T>
void avg_pool2d_backward(const Conv2dGeometry& g, const T* dy, T* dx) {
  const FlushDenormals flush;
  active_kernels<T>().avg_pool2d_backward(g, dy, dx);
}

// Transposed operands are read in place: the kernel transposes them while it packs them.
template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, const T* b,
          const T* bias, bool relu, T* c) {
  const FlushDenormals flush;
  active_kernels<T>().gemm(trans_a, trans_b, M, N, K, a, b, bias, relu, c);
}
template <typename T>
void outer_product_sums(Index P, Index M, Index N, const T* a, const T* b, T* c, T* b_sums) {
  const FlushDenormals flush;
  active_kernels<T>().outer_product_sums(P, M, N, a, b, c, b_sums);
}

template <typename T>
void relu_backward(Index count, const T* y, const T* dy, T* dx) {
  const FlushDenormals flush;
  active_kernels<T>().relu_backward(count, y, dy, dx);
}

#define CNNKIT_INSTANTIATE(T)                                                                  \
  template void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, const T*, bool,   \
                                  T*);                                                         \
  template void conv2d_backward_input<T>(const Conv2dGeometry&, const T*, const T*, T*);       \
  template void conv2d_backward_kernel<T>(const Conv2dGeometry&, const T*, const T*, T*, T*);  \
  template void max_pool2d_forward<T>(const Conv2dGeometry&, const T*, T*);                    \
  template void max_pool2d_backward<T>(const Conv2dGeometry&, const T*, const T*, T*);         \
  template void avg_pool2d_forward<T>(const Conv2dGeometry&, const T*, T*);                    \
  template void avg_pool2d_backward<T>(const Conv2dGeometry&, const T*, T*);                   \
  template void gemm<T>(bool, bool, Index, Index, Index, const T*, const T*, const T*, bool, T*);  \
  template void outer_product_sums<T>(Index, Index, Index, const T*, const T*, T*, T*);       \
  template void relu_backward<T>(Index, const T*, const T*, T*);
CNNKIT_INSTANTIATE(float)
CNNKIT_INSTANTIATE(double)
#undef CNNKIT_INSTANTIATE

}  // namespace cnnkit
