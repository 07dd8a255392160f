// Tiled convolution kernels against the direct-loop references, on every ISA; the references'
// gradients against central finite differences of the reference forward pass.
#include "cnnkit/conv2d.hpp"

#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::all_close;
using testing::ConvCase;
using testing::random_vector;

constexpr int kCases = 120;

template <typename T>
class Conv2dKernels : public testing::DirectConvolution {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Conv2dKernels, Dtypes);

// Sizes of x, w, y for a geometry.
struct Sizes {
  Index x, w, y;
};
Sizes sizes_of(const Conv2dGeometry& g) {
  return {g.N * g.H * g.W * g.C, g.KH * g.KW * g.C * g.OC, g.N * g.OH * g.OW * g.OC};
}

TYPED_TEST(Conv2dKernels, ForwardMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(1);
  for (const ConvCase& c : testing::conv_cases(kCases, 11)) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const Sizes n = sizes_of(g);
    const auto x = random_vector<T>(n.x, rng), w = random_vector<T>(n.w, rng);
    const auto b = random_vector<T>(g.OC, rng);
    for (bool relu : {false, true}) {
      const T* bias = relu ? b.data() : nullptr;  // bias with relu, none without: both paths
      std::vector<T> expected(n.y);
      conv2d_forward_ref<T>(g, x.data(), w.data(), bias, relu, expected.data());
      testing::for_each_isa([&] {
        std::vector<T> y(n.y, T(-7));
        conv2d_forward<T>(g, x.data(), w.data(), bias, relu, y.data());
        EXPECT_TRUE(all_close(y, expected)) << (relu ? "bias+relu" : "plain");
      });
    }
  }
}

TYPED_TEST(Conv2dKernels, BackwardInputMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(2);
  for (const ConvCase& c : testing::conv_cases(kCases, 12)) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const Sizes n = sizes_of(g);
    const auto dy = random_vector<T>(n.y, rng), w = random_vector<T>(n.w, rng);
    std::vector<T> expected(n.x);
    conv2d_backward_input_ref<T>(g, dy.data(), w.data(), expected.data());
    testing::for_each_isa([&] {
      std::vector<T> dx(n.x, T(-7));  // stale values must be overwritten
      conv2d_backward_input<T>(g, dy.data(), w.data(), dx.data());
      EXPECT_TRUE(all_close(dx, expected));
    });
  }
}

TYPED_TEST(Conv2dKernels, BackwardKernelMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(3);
  for (const ConvCase& c : testing::conv_cases(kCases, 13)) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const Sizes n = sizes_of(g);
    const auto x = random_vector<T>(n.x, rng), dy = random_vector<T>(n.y, rng);
    std::vector<T> expected_dw(n.w), expected_db(g.OC);
    conv2d_backward_kernel_ref<T>(g, x.data(), dy.data(), expected_dw.data(), expected_db.data());
    testing::for_each_isa([&] {
      std::vector<T> dw(n.w, T(-7)), db(g.OC, T(-7));
      conv2d_backward_kernel<T>(g, x.data(), dy.data(), dw.data(), db.data());
      EXPECT_TRUE(all_close(dw, expected_dw)) << "grad kernel";
      EXPECT_TRUE(all_close(db, expected_db)) << "grad bias";
      std::vector<T> dw_only(n.w);
      conv2d_backward_kernel<T>(g, x.data(), dy.data(), dw_only.data(), nullptr);
      EXPECT_EQ(dw_only, dw) << "db = null must not change dw";
    });
  }
}

// d/dv sum(y * r) by central differences of the reference forward pass, v = x or the kernel.
double numeric_grad(const Conv2dGeometry& g, std::vector<double> x, std::vector<double> w,
                    const std::vector<double>& r, bool wrt_kernel, size_t i) {
  std::vector<double>& v = wrt_kernel ? w : x;
  auto objective = [&](double value) {
    v[i] = value;
    std::vector<double> y(r.size());
    conv2d_forward_ref<double>(g, x.data(), w.data(), nullptr, false, y.data());
    double s = 0;
    for (size_t k = 0; k < y.size(); ++k) s += y[k] * r[k];
    return s;
  };
  const double eps = 1e-6, at = v[i];
  return (objective(at + eps) - objective(at - eps)) / (2 * eps);
}

TEST(Conv2dReferenceGradients, MatchFiniteDifferences) {
  std::mt19937_64 rng(4);
  for (const ConvCase& c : testing::conv_cases(25, 14)) {
    SCOPED_TRACE(c.str());
    if (c.N == 0) continue;
    const Conv2dGeometry g = c.geometry();
    const Sizes n = sizes_of(g);
    const auto x = random_vector<double>(n.x, rng), w = random_vector<double>(n.w, rng);
    const auto r = random_vector<double>(n.y, rng);
    std::vector<double> dx(n.x), dw(n.w), db(g.OC);
    conv2d_backward_input_ref<double>(g, r.data(), w.data(), dx.data());
    conv2d_backward_kernel_ref<double>(g, x.data(), r.data(), dw.data(), db.data());
    for (int k = 0; k < 6; ++k) {
      const size_t i = rng() % n.x, j = rng() % n.w;
      EXPECT_NEAR(dx[i], numeric_grad(g, x, w, r, false, i), 1e-6 * (1 + std::fabs(dx[i])));
      EXPECT_NEAR(dw[j], numeric_grad(g, x, w, r, true, j), 1e-6 * (1 + std::fabs(dw[j])));
    }
    double sum_r = 0;  // db[oc] = sum of r over that output channel
    for (Index p = 0; p < n.y / g.OC; ++p) sum_r += r[p * g.OC];
    EXPECT_NEAR(db[0], sum_r, 1e-9 * (1 + std::fabs(sum_r)));
  }
}

}  // namespace
}  // namespace cnnkit
