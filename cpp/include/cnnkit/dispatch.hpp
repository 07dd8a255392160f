// Runtime choice of the instruction set the kernels use.
//
// Kernels are compiled once per ISA into their own namespaces (baseline x86-64 / portable,
// avx2 = AVX2+FMA, avx512 = AVX-512 F/VL/BW/DQ). At first use the best one this CPU supports is
// chosen; CNNKIT_ISA=baseline|avx2|avx512 caps it, and set_isa switches at run time.
#pragma once

#include <string>
#include <vector>

namespace cnnkit {

std::vector<std::string> available_isas();  // supported by this CPU and build, lowest first
std::string active_isa();
void set_isa(const std::string& isa);  // invalid_argument if unknown or unsupported here

}  // namespace cnnkit
