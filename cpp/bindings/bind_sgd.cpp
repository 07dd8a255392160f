// Binding of the in-place SGD update the SGD optimizer runs on every parameter each step.
#include "array_utils.hpp"
#include "cnnkit/sgd.hpp"

namespace cnnkit {
namespace {

template <typename T>
void sgd_update_arrays(const py::handle& w_obj, const py::handle& g_obj, const py::handle& v_obj,
                       double learning_rate, double momentum, bool nesterov) {
  Array<T> w = writable<T>(w_obj, "sgd_update", "variable");
  const std::vector<py::ssize_t> shape(w.shape(), w.shape() + w.ndim());
  const Array<T> g = require<T>(g_obj, "gradient", w.ndim());
  require_shape(g, "gradient", shape);
  Array<T> v;
  if (!v_obj.is_none()) {
    v = writable<T>(v_obj, "sgd_update", "velocity");
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
