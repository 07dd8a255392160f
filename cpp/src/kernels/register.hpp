// Per-ISA registration hooks: each kernel file fills its part of the ISA's KernelSet.
#pragma once

#include "kernels/kernel_table.hpp"

namespace cnnkit {
namespace CNNKIT_ISA {

template <typename T> void fill_activation_kernels(KernelSet<T>* set);
template <typename T> void fill_conv2d_kernels(KernelSet<T>* set);
template <typename T> void fill_winograd_kernels(KernelSet<T>* set);
template <typename T> void fill_pool2d_kernels(KernelSet<T>* set);
template <typename T> void fill_gemm_kernels(KernelSet<T>* set);
template <typename T> void fill_filter2d_kernels(KernelSet<T>* set);

}  // namespace CNNKIT_ISA
}  // namespace cnnkit
