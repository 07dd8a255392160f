// Bindings of the convolution kernels: check shapes, allocate, release the GIL, compute.
#include "array_utils.hpp"
#include "cnnkit/conv2d.hpp"

namespace cnnkit {
namespace {

Conv2dGeometry conv_geometry(const py::array& x, const py::array& w,
                             const std::vector<Index>& strides, const std::string& padding,
                             const std::vector<Index>& dilation) {
  CNNKIT_CHECK(w.shape(2) == x.shape(3),
               "conv2d: kernel input channels (kernel shape " << shape_string(w)
                   << ") must equal the input channels (x shape " << shape_string(x) << ")");
  const auto [sh, sw] = pair_arg(strides, "strides");
  const auto [dh, dw] = pair_arg(dilation, "dilation_rate");
  return make_conv2d_geometry("conv2d", x.shape(0), x.shape(1), x.shape(2), x.shape(3),
                              w.shape(3), w.shape(0), w.shape(1), sh, sw, dh, dw,
                              parse_padding(padding));
}

template <typename T>
py::array forward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& b_obj,
                  const std::vector<Index>& strides, const std::string& padding,
                  const std::vector<Index>& dilation, bool relu) {
  const Array<T> x = require<T>(x_obj, "x", 4), w = require<T>(w_obj, "kernel", 4);
  const Conv2dGeometry g = conv_geometry(x, w, strides, padding, dilation);
  Array<T> b;
  if (!b_obj.is_none()) {
    b = require<T>(b_obj, "bias", 1);
    require_shape(b, "bias", {g.OC});
  }
  Array<T> y = empty<T>({g.N, g.OH, g.OW, g.OC});
  const T* bias = b_obj.is_none() ? nullptr : b.data();
  const T* xp = x.data();
  const T* wp = w.data();
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    conv2d_forward<T>(g, xp, wp, bias, relu, yp);
  }
  return std::move(y);
}

template <typename T>
py::tuple backward(const py::handle& x_obj, const py::handle& w_obj, const py::handle& dy_obj,
                   const std::vector<Index>& strides, const std::string& padding,
                   const std::vector<Index>& dilation, bool input_grad) {
  const Array<T> x = require<T>(x_obj, "x", 4), w = require<T>(w_obj, "kernel", 4);
  const Array<T> dy = require<T>(dy_obj, "grad_output", 4);
  const Conv2dGeometry g = conv_geometry(x, w, strides, padding, dilation);
  require_shape(dy, "grad_output", {g.N, g.OH, g.OW, g.OC});
  Array<T> dx = input_grad ? empty<T>({g.N, g.H, g.W, g.C}) : Array<T>();
  Array<T> dw = empty<T>({g.KH, g.KW, g.C, g.OC}), db = empty<T>({g.OC});
  const T *xp = x.data(), *wp = w.data(), *dyp = dy.data();
  T* dxp = input_grad ? dx.mutable_data() : nullptr;
  T *dwp = dw.mutable_data(), *dbp = db.mutable_data();
  {
    py::gil_scoped_release release;
    if (input_grad) conv2d_backward_input<T>(g, dyp, wp, dxp);
    conv2d_backward_kernel<T>(g, xp, dyp, dwp, dbp);
  }
  return py::make_tuple(input_grad ? py::object(dx) : py::none(), dw, db);
}

// The input gradient alone (x gives only the shape): lets benchmarks time it apart from dw.
template <typename T>
py::array backward_input(const py::handle& x_obj, const py::handle& w_obj,
                         const py::handle& dy_obj, const std::vector<Index>& strides,
                         const std::string& padding, const std::vector<Index>& dilation) {
  const Array<T> x = require<T>(x_obj, "x", 4), w = require<T>(w_obj, "kernel", 4);
  const Array<T> dy = require<T>(dy_obj, "grad_output", 4);
  const Conv2dGeometry g = conv_geometry(x, w, strides, padding, dilation);
  require_shape(dy, "grad_output", {g.N, g.OH, g.OW, g.OC});
  Array<T> dx = empty<T>({g.N, g.H, g.W, g.C});
  const T *wp = w.data(), *dyp = dy.data();
  T* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    conv2d_backward_input<T>(g, dyp, wp, dxp);
  }
  return std::move(dx);
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def(
      "conv2d_forward",
      [](py::handle x, py::handle w, py::handle b, std::vector<Index> strides,
         std::string padding, std::vector<Index> dilation, bool relu) {
        return is_double(x) ? forward<double>(x, w, b, strides, padding, dilation, relu)
                            : forward<float>(x, w, b, strides, padding, dilation, relu);
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("strides"), py::arg("padding"),
      py::arg("dilation_rate"), py::arg("relu"),
      "NHWC convolution; kernel (KH, KW, C, OC); bias (OC,) or None. Returns y.");
  m.def(
      "conv2d_backward",
      [](py::handle x, py::handle w, py::handle dy, std::vector<Index> strides,
         std::string padding, std::vector<Index> dilation, bool input_grad) {
        return is_double(x) ? backward<double>(x, w, dy, strides, padding, dilation, input_grad)
                            : backward<float>(x, w, dy, strides, padding, dilation, input_grad);
      },
      py::arg("x"), py::arg("kernel"), py::arg("grad_output"), py::arg("strides"),
      py::arg("padding"), py::arg("dilation_rate"), py::arg("input_grad"),
      "Returns (grad_x or None, grad_kernel, grad_bias).");
  m.def(
      "conv2d_backward_input",
      [](py::handle x, py::handle w, py::handle dy, std::vector<Index> strides,
         std::string padding, std::vector<Index> dilation) {
        return is_double(x) ? backward_input<double>(x, w, dy, strides, padding, dilation)
                            : backward_input<float>(x, w, dy, strides, padding, dilation);
      },
      py::arg("x"), py::arg("kernel"), py::arg("grad_output"), py::arg("strides"),
      py::arg("padding"), py::arg("dilation_rate"),
      "Returns grad_x only (x supplies the shape).");
}

}  // namespace cnnkit
