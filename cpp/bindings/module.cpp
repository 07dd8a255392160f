// The compiled core, cnnkit._core: one binding file per area, joined here.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace cnnkit {
void bind_activation(py::module_& m);
void bind_conv(py::module_& m);
void bind_pool(py::module_& m);
void bind_gemm(py::module_& m);
void bind_runtime(py::module_& m);
void bind_sgd(py::module_& m);
void bind_filter(py::module_& m);
}  // namespace cnnkit

PYBIND11_MODULE(_core, m) {
  m.doc() = "cnnkit's C++ kernels; use them through cnnkit.ops.";
  cnnkit::bind_activation(m);
  cnnkit::bind_conv(m);
  cnnkit::bind_pool(m);
  cnnkit::bind_gemm(m);
  cnnkit::bind_runtime(m);
  cnnkit::bind_sgd(m);
  cnnkit::bind_filter(m);
}
