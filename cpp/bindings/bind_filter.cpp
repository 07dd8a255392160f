// Binding of classical 2-D filtering (cnnkit.image, cnnkit.signal): check, allocate, compute.
#include "array_utils.hpp"
#include "cnnkit/filter2d.hpp"

namespace cnnkit {
namespace {

template <typename T>
py::array filter2d_planes(const py::handle& x_obj, const py::handle& w_obj,
                          const std::vector<Index>& output_shape, const std::vector<Index>& pads,
                          const std::string& boundary, double fillvalue) {
  const Array<T> x = require<T>(x_obj, "x", 3), w = require<T>(w_obj, "kernel", 2);
  const auto [oh, ow] = pair_arg(output_shape, "output_shape");
  const auto [pad_top, pad_left] = pair_arg(pads, "pads");
  const Filter2dGeometry g =
      make_filter2d_geometry(x.shape(0), x.shape(1), x.shape(2), w.shape(0), w.shape(1), oh, ow,
                             pad_top, pad_left, parse_boundary(boundary));
  Array<T> y = empty<T>({g.P, g.OH, g.OW});
  const T *xp = x.data(), *wp = w.data();
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    filter2d<T>(g, xp, wp, T(fillvalue), yp);
  }
  return std::move(y);
}

}  // namespace

void bind_filter(py::module_& m) {
  m.def(
      "filter2d",
      [](py::handle x, py::handle w, std::vector<Index> output_shape, std::vector<Index> pads,
         std::string boundary, double fillvalue) {
        return is_double(x) ? filter2d_planes<double>(x, w, output_shape, pads, boundary, fillvalue)
                            : filter2d_planes<float>(x, w, output_shape, pads, boundary, fillvalue);
      },
      py::arg("x"), py::arg("kernel"), py::arg("output_shape"), py::arg("pads"),
      py::arg("boundary"), py::arg("fillvalue"),
      "Correlation of planes x (P, H, W) with kernel (KH, KW): y[p, i, j] = sum over (a, b) of "
      "kernel[a, b] * x[p, i - pad_top + a, j - pad_left + b], x extended past its edges by "
      "boundary ('fill' with fillvalue, 'wrap', 'symm'). Returns (P, *output_shape), x's dtype "
      "(float32 unless x is float64).");
}

}  // namespace cnnkit
