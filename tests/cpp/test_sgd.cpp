// The in-place SGD update against its definition, written out scalar by scalar.
#include "cnnkit/sgd.hpp"

#include "testing.hpp"

namespace cnnkit {
namespace {

template <typename T>
class Sgd : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Sgd, Dtypes);

TYPED_TEST(Sgd, MatchesDefinitionBitwiseAtAnySizeAndThreadCount) {
  using T = TypeParam;
  std::mt19937_64 rng(13);
  const T lr = T(0.01), momentum = T(0.9);
  for (Index count : {Index(0), Index(1), Index(16383), Index(16385), Index(2 * 16384 + 7)}) {
    const auto w0 = testing::random_vector<T>(count, rng);
    const auto g = testing::random_vector<T>(count, rng);
    const auto v0 = testing::random_vector<T>(count, rng);
    for (int mode = 0; mode < 3; ++mode) {  // plain, momentum, Nesterov momentum
      std::vector<T> w_ref = w0, v_ref = v0;
      for (Index i = 0; i < count; ++i) {
        const T step = g[i] * lr;
        if (mode == 0) {
          w_ref[i] = w_ref[i] - step;
          continue;
        }
        v_ref[i] = v_ref[i] * momentum;
        v_ref[i] = v_ref[i] - step;
        if (mode == 2) {
          w_ref[i] = w_ref[i] - step;
          w_ref[i] = w_ref[i] + v_ref[i] * momentum;
        } else {
          w_ref[i] = w_ref[i] + v_ref[i];
        }
      }
      for (int threads : {1, 2, 3}) {
        testing::ThreadCount scope(threads);
        std::vector<T> w = w0, v = v0;
        sgd_update<T>(count, w.data(), g.data(), mode == 0 ? nullptr : v.data(), lr, momentum,
                      mode == 2);
        EXPECT_TRUE(testing::same_bits(w, w_ref))
            << "mode " << mode << ", count " << count << ", " << threads << " threads";
        EXPECT_TRUE(testing::same_bits(v, v_ref)) << "mode " << mode << ", count " << count;
      }
    }
  }
}

}  // namespace
}  // namespace cnnkit
