// This ISA's kernel table, filled from its kernel files.
#include "kernels/register.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

#define CNNKIT_STRINGIFY2(s) #s
#define CNNKIT_STRINGIFY(s) CNNKIT_STRINGIFY2(s)

namespace {
KernelTable make_table() {
  KernelTable table{};
  table.isa = CNNKIT_STRINGIFY(CNNKIT_ISA);
  fill_activation_kernels(&table.f32);
  fill_activation_kernels(&table.f64);
  fill_conv2d_kernels(&table.f32);
  fill_conv2d_kernels(&table.f64);
  fill_winograd_kernels(&table.f32);
  fill_winograd_kernels(&table.f64);
  fill_pool2d_kernels(&table.f32);
  fill_pool2d_kernels(&table.f64);
  fill_gemm_kernels(&table.f32);
  fill_gemm_kernels(&table.f64);
  fill_filter2d_kernels(&table.f32);
  fill_filter2d_kernels(&table.f64);
  return table;
}
}  // namespace

const KernelTable& kernel_table() {
  static const KernelTable table = make_table();
  return table;
}

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
