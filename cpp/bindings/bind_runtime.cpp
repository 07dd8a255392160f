// Bindings of the runtime settings: thread count, instruction set and the Winograd switch, and
// the workspace allocation count.
#include "array_utils.hpp"
#include "cnnkit/dispatch.hpp"
#include "cnnkit/parallel.hpp"
#include "cnnkit/winograd.hpp"
#include "cnnkit/workspace.hpp"

namespace cnnkit {

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Threads the kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Sets the threads the kernels use.");
  m.def("available_isas", &available_isas, "Instruction sets this CPU and build support.");
  m.def("active_isa", &active_isa, "The instruction set the kernels use now.");
  m.def("set_isa", &set_isa, py::arg("isa"), "Switches the kernels to another instruction set.");
  m.def("get_winograd", &winograd_enabled, "Whether 3x3 stride-1 float32 convolutions may use Winograd.");
  m.def("set_winograd", &set_winograd_enabled, py::arg("enabled").noconvert(),
        "Allows (True) or forbids (False) Winograd convolution.");
  m.def("workspace_allocations", &workspace_allocations,
        "Memory chunks the kernels' per-thread scratch arenas have allocated so far; a repeated "
        "call with the same shapes adds none.");
}

}  // namespace cnnkit
