// The ReLU gradient against its definition, dy * (y > 0), at sizes around the work blocks.
#include "cnnkit/activation.hpp"

#include <limits>

#include "testing.hpp"

namespace cnnkit {
namespace {

template <typename T>
class ReluBackward : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ReluBackward, Dtypes);

TYPED_TEST(ReluBackward, MatchesDefinitionAtAnySizeAndThreadCount) {
  using T = TypeParam;
  std::mt19937_64 rng(11);
  for (Index count : {Index(0), Index(1), Index(7), Index(16383), Index(16384), Index(16385),
                      Index(3 * 16384 + 5)}) {
    const auto y = testing::random_vector<T>(count, rng);
    const auto dy = testing::random_vector<T>(count, rng);
    std::vector<T> expected(count);  // bitwise: negative dy times 0 gives -0 in both
    for (Index i = 0; i < count; ++i) expected[i] = dy[i] * T(y[i] > T(0) ? 1 : 0);
    testing::for_each_isa([&] {
      for (int threads : {1, 2, 3}) {
        testing::ThreadCount scope(threads);
        std::vector<T> dx(count, T(-7));
        relu_backward<T>(count, y.data(), dy.data(), dx.data());
        EXPECT_TRUE(testing::same_bits(dx, expected))
            << "count " << count << ", " << threads << " threads";
        std::vector<T> in_place = dy;  // dx may be dy
        relu_backward<T>(count, y.data(), in_place.data(), in_place.data());
        EXPECT_TRUE(testing::same_bits(in_place, expected)) << "in place, count " << count;
      }
    });
  }
}

TYPED_TEST(ReluBackward, ZeroAndNaNOutputsBlockTheGradientButNaNGradientsPass) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> y = {T(0), T(-0.0), T(2), nan, T(-1), T(3)};
  const std::vector<T> dy = {T(5), T(5), T(5), T(5), nan, nan};
  testing::for_each_isa([&] {
    std::vector<T> dx(y.size());
    relu_backward<T>(Index(y.size()), y.data(), dy.data(), dx.data());
    EXPECT_EQ(dx[0], T(0));
    EXPECT_EQ(dx[1], T(0));
    EXPECT_EQ(dx[2], T(5));
    EXPECT_EQ(dx[3], T(0));  // NaN > 0 is false
    EXPECT_TRUE(std::isnan(dx[4]));
    EXPECT_TRUE(std::isnan(dx[5]));
  });
}

}  // namespace
}  // namespace cnnkit
