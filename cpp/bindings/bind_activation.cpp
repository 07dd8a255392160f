// Binding of the ReLU gradient the layers apply to every ReLU output in training.
#include "array_utils.hpp"
#include "cnnkit/activation.hpp"

namespace cnnkit {
namespace {

template <typename T>
py::array relu_backward_array(const py::handle& y_obj, const py::handle& dy_obj,
                              const py::handle& out_obj) {
  if (!py::isinstance<py::array>(y_obj) || !py::isinstance<py::array>(dy_obj))
    throw py::type_error("relu_backward: y and grad_output must be numpy arrays");
  const py::array y_raw = py::reinterpret_borrow<py::array>(y_obj);
  const py::array dy_raw = py::reinterpret_borrow<py::array>(dy_obj);
  const Array<T> y = require<T>(y_obj, "y", y_raw.ndim());
  const Array<T> dy = require<T>(dy_obj, "grad_output", dy_raw.ndim());
  std::vector<py::ssize_t> shape(y.shape(), y.shape() + y.ndim());
  require_shape(dy, "grad_output", shape);
  Array<T> out;
  if (out_obj.is_none()) {
    out = empty<T>(shape);
  } else {
    out = writable<T>(out_obj, "relu_backward", "out");
    require_shape(out, "out", shape);
  }
  const T *yp = y.data(), *dyp = dy.data();
  T* outp = out.mutable_data();
  const Index count = Index(y.size());
  {
    py::gil_scoped_release release;
    relu_backward<T>(count, yp, dyp, outp);
  }
  return std::move(out);
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def(
      "relu_backward",
      [](py::handle y, py::handle dy, py::handle out) {
        return is_double(y) || is_double(dy) ? relu_backward_array<double>(y, dy, out)
                                             : relu_backward_array<float>(y, dy, out);
      },
      py::arg("y"), py::arg("grad_output"), py::arg("out") = py::none(),
      "grad_output * (y > 0) for a ReLU's output y, written to out when given.");
}

}  // namespace cnnkit
