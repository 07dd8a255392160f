// Bindings of the pooling kernels: check shapes, allocate, release the GIL, compute.
#include "array_utils.hpp"
#include "cnnkit/pool2d.hpp"

namespace cnnkit {
namespace {

Conv2dGeometry pool_geometry(const char* op, const py::array& x,
                             const std::vector<Index>& pool_size,
                             const std::vector<Index>& strides, const std::string& padding) {
  const auto [kh, kw] = pair_arg(pool_size, "pool_size");
  const auto [sh, sw] = pair_arg(strides, "strides");
  return make_pool2d_geometry(op, x.shape(0), x.shape(1), x.shape(2), x.shape(3), kh, kw, sh, sw,
                              parse_padding(padding));
}

template <typename T, bool kMax>
py::array forward(const py::handle& x_obj, const std::vector<Index>& pool_size,
                  const std::vector<Index>& strides, const std::string& padding) {
  const char* op = kMax ? "max_pool2d" : "avg_pool2d";
  const Array<T> x = require<T>(x_obj, "x", 4);
  const Conv2dGeometry g = pool_geometry(op, x, pool_size, strides, padding);
  Array<T> y = empty<T>({g.N, g.OH, g.OW, g.C});
  const T* xp = x.data();
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    if (kMax)
      max_pool2d_forward<T>(g, xp, yp);
    else
      avg_pool2d_forward<T>(g, xp, yp);
  }
  return std::move(y);
}

template <typename T, bool kMax>
py::array backward(const py::handle& x_obj, const py::handle& dy_obj,
                   const std::vector<Index>& pool_size, const std::vector<Index>& strides,
                   const std::string& padding) {
  const char* op = kMax ? "max_pool2d_backward" : "avg_pool2d_backward";
  const Array<T> x = require<T>(x_obj, "x", 4), dy = require<T>(dy_obj, "grad_output", 4);
  const Conv2dGeometry g = pool_geometry(op, x, pool_size, strides, padding);
  require_shape(dy, "grad_output", {g.N, g.OH, g.OW, g.C});
  Array<T> dx = empty<T>({g.N, g.H, g.W, g.C});
  const T *xp = x.data(), *dyp = dy.data();
  T* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    if (kMax)
      max_pool2d_backward<T>(g, xp, dyp, dxp);
    else
      avg_pool2d_backward<T>(g, dyp, dxp);
  }
  return std::move(dx);
}

template <bool kMax>
void bind_pair(py::module_& m, const char* forward_name, const char* backward_name) {
  m.def(
      forward_name,
      [](py::handle x, std::vector<Index> pool_size, std::vector<Index> strides,
         std::string padding) {
        return is_double(x) ? forward<double, kMax>(x, pool_size, strides, padding)
                            : forward<float, kMax>(x, pool_size, strides, padding);
      },
      py::arg("x"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"));
  m.def(
      backward_name,
      [](py::handle x, py::handle dy, std::vector<Index> pool_size, std::vector<Index> strides,
         std::string padding) {
        return is_double(x) ? backward<double, kMax>(x, dy, pool_size, strides, padding)
                            : backward<float, kMax>(x, dy, pool_size, strides, padding);
      },
      py::arg("x"), py::arg("grad_output"), py::arg("pool_size"), py::arg("strides"),
      py::arg("padding"));
}

}  // namespace

void bind_pool(py::module_& m) {
  bind_pair<true>(m, "max_pool2d_forward", "max_pool2d_backward");
  bind_pair<false>(m, "avg_pool2d_forward", "avg_pool2d_backward");
}

}  // namespace cnnkit
