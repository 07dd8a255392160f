// The Winograd switch and the rule for when the plain conv2d functions use it.
#include "cnnkit/winograd.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/kernel_table.hpp"

namespace cnnkit {
namespace {

std::atomic<bool> g_enabled{[] {
  const char* value = std::getenv("CNNKIT_WINOGRAD");
  return value == nullptr || std::strcmp(value, "0") != 0;
}()};

Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

bool applies(const Conv2dGeometry& g) {
  return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 &&
         g.pad_top <= 2 && g.pad_left <= 2;
}

bool applies_stride2(const Conv2dGeometry& g) {
  return g.KH == 3 && g.KW == 3 && g.SH == 2 && g.SW == 2 && g.DH == 1 && g.DW == 1;
}

void check_applies_stride2(const Conv2dGeometry& g) {
  CNNKIT_CHECK(applies_stride2(g), "winograd stride-2 convolution needs a 3x3 stride-2 undilated "
                                   "kernel, got " << g.KH << "x" << g.KW << " stride " << g.SH
                                   << "x" << g.SW << " dilation " << g.DH << "x" << g.DW);
}

void check_applies(const Conv2dGeometry& g, int m) {
  CNNKIT_CHECK(applies(g), "winograd convolution needs a 3x3 stride-1 undilated kernel, got "
                               << g.KH << "x" << g.KW << " stride " << g.SH << "x" << g.SW
                               << " dilation " << g.DH << "x" << g.DW);
  CNNKIT_CHECK(m == 2 || m == 4, "winograd tile size must be 2 or 4, got " << m);
}

}  // namespace

bool winograd_enabled() { return g_enabled.load(std::memory_order_relaxed); }
void set_winograd_enabled(bool enabled) { g_enabled.store(enabled, std::memory_order_relaxed); }

template <typename T>
int winograd_tile(const Conv2dGeometry& g, ConvPass pass) {
  if (sizeof(T) != 4 || !winograd_enabled() || !applies(g)) return 0;
  const bool backward_input = pass == ConvPass::kBackwardInput;
  // The forward and backward-input GEMMs reduce over the input channels of their direction:
  // with fewer than 16 they are too thin for the micro-kernel, and the direct kernels (built for
  // first layers) win. The kernel gradient's GEMMs have the input channels as rows.
  const Index in = backward_input ? g.OC : g.C, out = backward_input ? g.C : g.OC;
  if (in < 16 || out < 4) return 0;
  // F(4x4) multiplies 1.8x less than F(2x2) per output but its tiles cut by the image edge
  // compute more discarded outputs: take F(2x2) where they cover over a quarter more area, or
  // two fifths for the kernel gradient, which gains more from the larger tiles (14x14 images,
  // 1.31 times the area: F(2x2) 0-10% faster forward and input gradient, F(4x4) 12-25% faster
  // kernel gradient; 10x10, 1.44: F(2x2) faster in all three).
  const Index rows = backward_input ? g.H : g.OH, cols = backward_input ? g.W : g.OW;
  const Index area4 = ceil_div(rows, 4) * ceil_div(cols, 4) * 16;
  const Index area2 = ceil_div(rows, 2) * ceil_div(cols, 2) * 4;
  const bool kernel_gradient = pass == ConvPass::kBackwardKernel;
  return (kernel_gradient ? 5 * area4 > 7 * area2 : 4 * area4 > 5 * area2) ? 2 : 4;
}

template <typename T>
bool winograd_stride2(const Conv2dGeometry& g, ConvPass pass) {
  if (sizeof(T) != 4 || !winograd_enabled() || !applies_stride2(g)) return false;
  // As for stride 1 (winograd_tile), few channels in the reduction of a direction's GEMMs make
  // them too thin, and the direct kernels win.
  const bool backward_input = pass == ConvPass::kBackwardInput;
  const Index in = backward_input ? g.OC : g.C, out = backward_input ? g.C : g.OC;
  return in >= 16 && out >= 4;
}

template <typename T>
void conv2d_forward_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* w, const T* b,
                                     bool relu, T* y) {
  check_applies_stride2(g);
  active_kernels<T>().conv2d_forward_winograd_stride2(g, x, w, b, relu, y);
}

template <typename T>
void conv2d_backward_kernel_winograd_stride2(const Conv2dGeometry& g, const T* x, const T* dy,
                                             T* dw, T* db) {
  check_applies_stride2(g);
  active_kernels<T>().conv2d_backward_kernel_winograd_stride2(g, x, dy, dw, db);
}

template <typename T>
void conv2d_backward_input_winograd_stride2(const Conv2dGeometry& g, const T* dy, const T* w,
                                            T* dx) {
  check_applies_stride2(g);
  active_kernels<T>().conv2d_backward_input_winograd_stride2(g, dy, w, dx);
}

template <typename T>
void conv2d_forward_winograd(const Conv2dGeometry& g, int m, const T* x, const T* w, const T* b,
                             bool relu, T* y) {
  check_applies(g, m);
  active_kernels<T>().conv2d_forward_winograd(g, m, x, w, b, relu, y);
}

template <typename T>
void conv2d_backward_input_winograd(const Conv2dGeometry& g, int m, const T* dy, const T* w,
                                    T* dx) {
  check_applies(g, m);
  active_kernels<T>().conv2d_backward_input_winograd(g, m, dy, w, dx);
}

template <typename T>
void conv2d_backward_kernel_winograd(const Conv2dGeometry& g, int m, const T* x, const T* dy,
                                     T* dw, T* db) {
  check_applies(g, m);
  active_kernels<T>().conv2d_backward_kernel_winograd(g, m, x, dy, dw, db);
}

#define CNNKIT_INSTANTIATE(T)                                                                    \
  template int winograd_tile<T>(const Conv2dGeometry&, ConvPass);                                \
  template bool winograd_stride2<T>(const Conv2dGeometry&, ConvPass);                            \
  template void conv2d_forward_winograd_stride2<T>(const Conv2dGeometry&, const T*, const T*,    \
                                                   const T*, bool, T*);                          \
  template void conv2d_backward_input_winograd_stride2<T>(const Conv2dGeometry&, const T*,       \
                                                          const T*, T*);                         \
  template void conv2d_backward_kernel_winograd_stride2<T>(const Conv2dGeometry&, const T*,      \
                                                           const T*, T*, T*);                    \
  template void conv2d_forward_winograd<T>(const Conv2dGeometry&, int, const T*, const T*,       \
                                           const T*, bool, T*);                                  \
  template void conv2d_backward_input_winograd<T>(const Conv2dGeometry&, int, const T*, const T*, \
                                                  T*);                                           \
  template void conv2d_backward_kernel_winograd<T>(const Conv2dGeometry&, int, const T*,         \
                                                   const T*, T*, T*);
CNNKIT_INSTANTIATE(float)
CNNKIT_INSTANTIATE(double)
#undef CNNKIT_INSTANTIATE

}  // namespace cnnkit
