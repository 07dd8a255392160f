// Binding of the GEMM used by Dense layers.
#include "array_utils.hpp"
#include "cnnkit/gemm.hpp"

namespace cnnkit {
namespace {

template <typename T>
py::array matmul(const py::handle& a_obj, const py::handle& b_obj, const py::handle& bias_obj,
                 bool trans_a, bool trans_b, bool relu) {
  const Array<T> a = require<T>(a_obj, "a", 2), b = require<T>(b_obj, "b", 2);
  const Index M = trans_a ? a.shape(1) : a.shape(0), K = trans_a ? a.shape(0) : a.shape(1);
  const Index KB = trans_b ? b.shape(1) : b.shape(0), N = trans_b ? b.shape(0) : b.shape(1);
  CNNKIT_CHECK(K == KB, "matmul: inner dimensions differ: a " << shape_string(a) << " and b "
                                                              << shape_string(b));
  Array<T> bias;
  if (!bias_obj.is_none()) {
    bias = require<T>(bias_obj, "bias", 1);
    require_shape(bias, "bias", {N});
  }
  Array<T> c = empty<T>({M, N});
  const T *ap = a.data(), *bp = b.data(), *biasp = bias_obj.is_none() ? nullptr : bias.data();
  T* cp = c.mutable_data();
  {
    py::gil_scoped_release release;
    gemm<T>(trans_a, trans_b, M, N, K, ap, bp, biasp, relu, cp);
  }
  return std::move(c);
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "matmul",
      [](py::handle a, py::handle b, py::handle bias, bool trans_a, bool trans_b, bool relu) {
        return is_double(a) ? matmul<double>(a, b, bias, trans_a, trans_b, relu)
                            : matmul<float>(a, b, bias, trans_a, trans_b, relu);
      },
      py::arg("a"), py::arg("b"), py::arg("bias") = py::none(), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("relu") = false,
      "op(a) . op(b) [+ bias] [relu] with op transposing when trans_a / trans_b is set.");
}

}  // namespace cnnkit
