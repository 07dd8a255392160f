// Binding of the in-place SGD update the SGD optimizer runs on every parameter each step.
#include "array_utils.hpp"
#include "cnnkit/sgd.hpp"

namespace cnnkit {
namespace {

// `obj` as an array of T that the update can write in place: no converted copy.
template <typename T>
Array<T> in_place(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj) ||
      !py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string("sgd_update: ") + name +
                         " must be a float32 or float64 numpy array");
  const py::array raw = py::reinterpret_borrow<py::array>(obj);
  CNNKIT_CHECK((raw.flags() & py::array::c_style) && raw.writeable(),
               "sgd_update: " << name << " must be C-contiguous and writeable");
  return py::reinterpret_borrow<Array<T>>(obj);
}

template <typename T>
void sgd_update_arrays(const py::handle& w_obj, const py::handle& g_obj, const py::handle& v_obj,
                       double learning_rate, double momentum, bool nesterov) {
  Array<T> w = in_place<T>(w_obj, "variable");
  const std::vector<py::ssize_t> shape(w.shape(), w.shape() + w.ndim());
  const Array<T> g = require<T>(g_obj, "gradient", w.ndim());
  require_shape(g, "gradient", shape);
  Array<T> v;
  if (!v_obj.is_none()) {
    v = in_place<T>(v_obj, "velocity");
    require_shape(v, "velocity", shape);
  }
  T* wp = w.mutable_data();
  const T* gp = g.data();
  T* vp = v_obj.is_none() ? nullptr : v.mutable_data();
  const Index count = Index(w.size());
  py::gil_scoped_release release;
  sgd_update<T>(count, wp, gp, vp, T(learning_rate), T(momentum), nesterov);
}

}  // namespace

void bind_sgd(py::module_& m) {
  m.def(
      "sgd_update",
      [](py::handle w, py::handle g, py::handle v, double learning_rate, double momentum,
         bool nesterov) {
        if (is_double(w))
          sgd_update_arrays<double>(w, g, v, learning_rate, momentum, nesterov);
        else
          sgd_update_arrays<float>(w, g, v, learning_rate, momentum, nesterov);
      },
      py::arg("variable"), py::arg("gradient"), py::arg("velocity"), py::arg("learning_rate"),
      py::arg("momentum") = 0.0, py::arg("nesterov") = false,
      "SGD's update of variable (and velocity, unless None) in place from gradient.");
}

}  // namespace cnnkit
