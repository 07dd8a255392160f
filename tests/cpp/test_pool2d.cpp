// Pooling kernels against the direct-loop references on every ISA, tie and NaN rules, and the
// references' gradients against finite differences.
#include "cnnkit/pool2d.hpp"

#include <limits>

#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::all_close;
using testing::random_vector;

struct PoolCase {
  Index N, H, W, C, KH, KW, SH, SW;
  Padding padding;
  Conv2dGeometry geometry() const {
    return make_pool2d_geometry("test", N, H, W, C, KH, KW, SH, SW, padding);
  }
  std::string str() const {
    return "N=" + std::to_string(N) + " H=" + std::to_string(H) + " W=" + std::to_string(W) +
           " C=" + std::to_string(C) + " pool=" + std::to_string(KH) + "x" + std::to_string(KW) +
           " S=" + std::to_string(SH) + "x" + std::to_string(SW) +
           (padding == Padding::kSame ? " same" : " valid");
  }
};

std::vector<PoolCase> pool_cases(int count, unsigned seed) {
  std::vector<PoolCase> cases = {
      {2, 4, 4, 3, 2, 2, 2, 2, Padding::kValid},     // the classic 2x2
      {1, 5, 7, 65, 2, 2, 2, 2, Padding::kSame},     // odd sizes padded, > one channel block
      {3, 6, 6, 2, 3, 3, 1, 1, Padding::kSame},      // overlapping windows
      {1, 5, 4, 1, 5, 4, 1, 1, Padding::kValid},     // window == input
      {2, 9, 9, 4, 2, 3, 4, 3, Padding::kValid},     // strides larger than the window
      {1, 1, 1, 7, 1, 1, 1, 1, Padding::kValid},     // one pixel
      {0, 4, 4, 3, 2, 2, 2, 2, Padding::kValid},     // empty batch
  };
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<Index>& from) { return from[rng() % from.size()]; };
  while (int(cases.size()) < count) {
    PoolCase c{};
    c.N = pick({1, 2, 3});
    c.H = pick({1, 2, 3, 5, 7, 8, 11, 13});
    c.W = pick({1, 2, 3, 5, 7, 8, 11, 13});
    c.C = pick(testing::edge_sizes());
    c.KH = pick({1, 2, 3, 4});
    c.KW = pick({1, 2, 3, 4});
    c.SH = pick({1, 2, 3, 5});
    c.SW = pick({1, 2, 3, 5});
    c.padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    if (c.padding == Padding::kValid && (c.KH > c.H || c.KW > c.W)) c.padding = Padding::kSame;
    cases.push_back(c);
  }
  return cases;
}

template <typename T>
class Pool2dKernels : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Pool2dKernels, Dtypes);

TYPED_TEST(Pool2dKernels, MatchReferenceForwardAndBackward) {
  using T = TypeParam;
  std::mt19937_64 rng(5);
  for (const PoolCase& c : pool_cases(120, 15)) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const Index nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
    const auto x = random_vector<T>(nx, rng), dy = random_vector<T>(ny, rng);
    std::vector<T> max_y(ny), max_dx(nx), avg_y(ny), avg_dx(nx);
    max_pool2d_forward_ref<T>(g, x.data(), max_y.data());
    max_pool2d_backward_ref<T>(g, x.data(), dy.data(), max_dx.data());
    avg_pool2d_forward_ref<T>(g, x.data(), avg_y.data());
    avg_pool2d_backward_ref<T>(g, dy.data(), avg_dx.data());
    testing::for_each_isa([&] {
      std::vector<T> y(ny, T(-7)), dx(nx, T(-7));
      max_pool2d_forward<T>(g, x.data(), y.data());
      EXPECT_EQ(y, max_y) << "max forward is exact";
      max_pool2d_backward<T>(g, x.data(), dy.data(), dx.data());
      EXPECT_TRUE(all_close(dx, max_dx)) << "max backward";
      avg_pool2d_forward<T>(g, x.data(), y.data());
      EXPECT_TRUE(all_close(y, avg_y)) << "avg forward";
      std::fill(dx.begin(), dx.end(), T(-7));
      avg_pool2d_backward<T>(g, dy.data(), dx.data());
      EXPECT_TRUE(all_close(dx, avg_dx)) << "avg backward";
    });
  }
}

TEST(Pool2dSemantics, TiesGoToTheFirstElementAndNaNWins) {
  // One 2x2 window over a single channel, row-major values.
  const Conv2dGeometry g = make_pool2d_geometry("test", 1, 2, 2, 1, 2, 2, 2, 2, Padding::kValid);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float dy = 1.0f;
  struct Case {
    std::vector<float> x;
    Index winner;
  };
  for (const Case& c : {Case{{3, 5, 5, 1}, 1}, Case{{2, 2, 2, 2}, 0}, Case{{1, nan, 9, nan}, 1}}) {
    testing::for_each_isa([&] {
      float y = 0;
      std::vector<float> dx(4, -1.0f);
      max_pool2d_forward<float>(g, c.x.data(), &y);
      max_pool2d_backward<float>(g, c.x.data(), &dy, dx.data());
      for (Index i = 0; i < 4; ++i) EXPECT_EQ(dx[i], i == c.winner ? 1.0f : 0.0f) << "cell " << i;
      if (std::isnan(c.x[c.winner]))
        EXPECT_TRUE(std::isnan(y));
      else
        EXPECT_EQ(y, c.x[c.winner]);
    });
  }
}

TEST(Pool2dSemantics, PaddingIsNeverAMaxNorCountedInAnAverage) {
  // 'same' 3x3 stride 1 over a 2x2 all-negative image: padding (zeros) must not win the max.
  const Conv2dGeometry g = make_pool2d_geometry("test", 1, 2, 2, 1, 3, 3, 1, 1, Padding::kSame);
  const std::vector<float> x = {-4, -3, -2, -1};
  testing::for_each_isa([&] {
    std::vector<float> y(4);
    max_pool2d_forward<float>(g, x.data(), y.data());
    EXPECT_EQ(y, std::vector<float>({-1, -1, -1, -1}));
    avg_pool2d_forward<float>(g, x.data(), y.data());
    EXPECT_EQ(y, std::vector<float>({-2.5, -2.5, -2.5, -2.5}));
  });
}

TEST(Pool2dReferenceGradients, MatchFiniteDifferences) {
  std::mt19937_64 rng(6);
  for (const PoolCase& c : pool_cases(20, 16)) {
    SCOPED_TRACE(c.str());
    if (c.N == 0) continue;
    const Conv2dGeometry g = c.geometry();
    const Index nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
    auto x = random_vector<double>(nx, rng);  // distinct values: no ties within 1e-6
    const auto r = random_vector<double>(ny, rng);
    std::vector<double> max_dx(nx), avg_dx(nx);
    max_pool2d_backward_ref<double>(g, x.data(), r.data(), max_dx.data());
    avg_pool2d_backward_ref<double>(g, r.data(), avg_dx.data());
    auto objective = [&](bool max) {
      std::vector<double> y(ny);
      if (max)
        max_pool2d_forward_ref<double>(g, x.data(), y.data());
      else
        avg_pool2d_forward_ref<double>(g, x.data(), y.data());
      double s = 0;
      for (Index k = 0; k < ny; ++k) s += y[k] * r[k];
      return s;
    };
    for (int k = 0; k < 8; ++k) {
      const size_t i = rng() % nx;
      const double at = x[i], eps = 1e-7;
      for (bool max : {true, false}) {
        x[i] = at + eps;
        const double up = objective(max);
        x[i] = at - eps;
        const double down = objective(max);
        x[i] = at;
        const double expected = max ? max_dx[i] : avg_dx[i];
        EXPECT_NEAR((up - down) / (2 * eps), expected, 1e-6 * (1 + std::fabs(expected)));
      }
    }
  }
}

}  // namespace
}  // namespace cnnkit
