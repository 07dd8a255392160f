// The packed GEMM against the triple-loop reference on every ISA, all transpose combinations.
#include "cnnkit/gemm.hpp"

#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::all_close;
using testing::random_vector;

template <typename T>
class Gemm : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Gemm, Dtypes);

TYPED_TEST(Gemm, MatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(7);
  const std::vector<Index> sizes = {1, 2, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100};
  for (int k = 0; k < 110; ++k) {
    const Index M = sizes[rng() % sizes.size()], N = sizes[rng() % sizes.size()];
    const Index K = sizes[rng() % sizes.size()];
    const bool ta = rng() % 2, tb = rng() % 2, relu = rng() % 2, with_bias = rng() % 2;
    SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" +
                 std::to_string(K) + " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
    const auto a = random_vector<T>(M * K, rng), b = random_vector<T>(K * N, rng);
    const auto bias = random_vector<T>(N, rng);
    const T* bp = with_bias ? bias.data() : nullptr;
    std::vector<T> expected(M * N);
    gemm_ref<T>(ta, tb, M, N, K, a.data(), b.data(), bp, relu, expected.data());
    testing::for_each_isa([&] {
      std::vector<T> c(M * N, T(-7));
      gemm<T>(ta, tb, M, N, K, a.data(), b.data(), bp, relu, c.data());
      EXPECT_TRUE(all_close(c, expected));
    });
  }
}

TEST(GemmReference, SmallProductByHand) {
  const std::vector<double> a = {1, 2, 3, 4, 5, 6};   // 2x3
  const std::vector<double> b = {1, 0, 0, 1, 1, -1};  // 3x2
  const std::vector<double> bias = {0.5, -10};
  std::vector<double> c(4);
  gemm_ref<double>(false, false, 2, 2, 3, a.data(), b.data(), bias.data(), true, c.data());
  EXPECT_EQ(c, std::vector<double>({4.5, 0, 10.5, 0}));  // [4, -1] and [10, -1], bias, relu
}

}  // namespace
}  // namespace cnnkit
