// The vectorised max-pooling kernels (one lane per channel) against the reference on every ISA,
// with many ties and NaNs in every lane position: the first maximum (or the first NaN) must win
// in each lane exactly as in the scalar rule. Channel counts straddle the vector widths (2 to 16
// lanes) so whole vectors and the scalar channel tail both run; windows are disjoint (the
// row-split backward path) and overlapping (the channel-block path).
#include <cmath>
#include <limits>

#include "cnnkit/pool2d.hpp"
#include "testing.hpp"

namespace cnnkit {
namespace {

template <typename T>
class MaxPoolVector : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MaxPoolVector, Dtypes);

struct Case {
  Index N, H, W, C, KH, KW, SH, SW;
  Padding padding;
};

const std::vector<Case> kCases = {
    {2, 8, 8, 16, 2, 2, 2, 2, Padding::kValid},   // the usual 2x2, whole vectors
    {1, 9, 7, 17, 2, 2, 2, 2, Padding::kValid},   // odd sizes: uncovered last row and column
    {3, 7, 5, 33, 2, 2, 2, 2, Padding::kSame},    // padded windows, channel tail
    {1, 10, 11, 8, 3, 3, 3, 3, Padding::kSame},   // 3x3 disjoint
    {2, 11, 9, 4, 2, 3, 3, 4, Padding::kValid},   // stride above the window: gaps
    {1, 8, 8, 19, 3, 3, 2, 2, Padding::kSame},    // overlapping windows
    {2, 6, 7, 32, 3, 2, 1, 1, Padding::kValid},   // stride 1
};

// Values from {-1, 0, 1}, so most windows tie, with about one NaN in twelve.
template <typename T>
std::vector<T> tied_values(Index count, std::mt19937_64& rng) {
  std::vector<T> v(static_cast<size_t>(count));
  for (T& e : v) {
    const unsigned r = rng() % 12;
    e = r == 0 ? std::numeric_limits<T>::quiet_NaN() : T(int(r % 3) - 1);
  }
  return v;
}

// Equal, treating NaN as equal to NaN.
template <typename T>
::testing::AssertionResult same(const std::vector<T>& actual, const std::vector<T>& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    const bool both_nan = std::isnan(actual[i]) && std::isnan(expected[i]);
    if (!both_nan && actual[i] != expected[i])
      return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " vs "
                                           << expected[i];
  }
  return ::testing::AssertionSuccess();
}

TYPED_TEST(MaxPoolVector, ForwardAndBackwardMatchReferenceWithTiesAndNaN) {
  using T = TypeParam;
  std::mt19937_64 rng(31);
  const int default_threads = get_num_threads();
  for (const Case& c : kCases) {
    const Conv2dGeometry g =
        make_pool2d_geometry("test", c.N, c.H, c.W, c.C, c.KH, c.KW, c.SH, c.SW, c.padding);
    SCOPED_TRACE("N=" + std::to_string(g.N) + " H=" + std::to_string(g.H) + " W=" +
                 std::to_string(g.W) + " C=" + std::to_string(g.C) + " K=" + std::to_string(g.KH) +
                 "x" + std::to_string(g.KW) + " S=" + std::to_string(g.SH) + "x" +
                 std::to_string(g.SW));
    const auto x = tied_values<T>(g.N * g.H * g.W * g.C, rng);
    // Distinct integer gradients: a sum in dx is exact, so the comparison can be exact too.
    std::vector<T> dy(g.N * g.OH * g.OW * g.C);
    for (size_t i = 0; i < dy.size(); ++i) dy[i] = T(i % 1000 + 1);
    std::vector<T> y_ref(dy.size()), dx_ref(x.size());
    max_pool2d_forward_ref<T>(g, x.data(), y_ref.data());
    max_pool2d_backward_ref<T>(g, x.data(), dy.data(), dx_ref.data());
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      testing::for_each_isa([&] {
        std::vector<T> y(y_ref.size(), T(-7)), dx(dx_ref.size(), T(-7));
        max_pool2d_forward<T>(g, x.data(), y.data());
        max_pool2d_backward<T>(g, x.data(), dy.data(), dx.data());
        EXPECT_TRUE(same(y, y_ref)) << "forward, threads " << threads;
        EXPECT_TRUE(same(dx, dx_ref)) << "backward, threads " << threads;
      });
    }
  }
  set_num_threads(default_threads);
}

}  // namespace
}  // namespace cnnkit
