// The packed GEMM against the triple-loop reference on every ISA, all transpose combinations.
#include "cnnkit/gemm.hpp"

#include <cstdint>

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

// Shapes at and one either side of the blocking: K slices of 256, row tiles of 6 (AVX2) or 12
// (AVX-512) in blocks of 4 tiles (24 or 48 rows), column panels of 8 to 32 lanes in blocks of
// 8 to 64 panels; primes and 1. Each runs with every transpose combination (read in place by
// the packing) on 1 and 3 threads, so the row-tile split between threads falls mid-block.
TYPED_TEST(Gemm, MatchesReferenceAtBlockEdges) {
  using T = TypeParam;
  struct Shape {
    Index M, N, K;
  };
  const std::vector<Shape> shapes = {
      {1, 1, 1},     {1, 97, 257},  {97, 1, 255},  {47, 33, 256},   {48, 32, 257},
      {49, 31, 512}, {95, 17, 513}, {96, 16, 1},   {97, 15, 300},   {193, 65, 511},
      {7, 5, 769},   {13, 257, 37}, {144, 48, 2},  {23, 1041, 17},  {5, 3, 0},
      {0, 4, 3},
  };
  const int saved_threads = get_num_threads();
  std::mt19937_64 rng(11);
  for (const Shape& s : shapes) {
    SCOPED_TRACE("M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) + " K=" +
                 std::to_string(s.K));
    const auto a = random_vector<T>(s.M * s.K, rng), b = random_vector<T>(s.K * s.N, rng);
    const auto bias = random_vector<T>(s.N, rng);
    for (const int transposes : {0, 1, 2, 3}) {
      const bool ta = transposes & 1, tb = transposes & 2, relu = transposes == 1;
      std::vector<T> expected(s.M * s.N);
      gemm_ref<T>(ta, tb, s.M, s.N, s.K, a.data(), b.data(), bias.data(), relu,
                  expected.data());
      for (const int threads : {1, 3}) {
        SCOPED_TRACE("threads=" + std::to_string(threads) + " ta=" + std::to_string(ta) +
                     " tb=" + std::to_string(tb) + " relu=" + std::to_string(relu));
        set_num_threads(threads);
        testing::for_each_isa([&] {
          std::vector<T> c(s.M * s.N, T(-7));
          gemm<T>(ta, tb, s.M, s.N, s.K, a.data(), b.data(), bias.data(), relu, c.data());
          EXPECT_TRUE(all_close(c, expected));
        });
      }
    }
  }
  set_num_threads(saved_threads);
}

// A product written once and many times larger than L2 (a 1x1 convolution's forward pass): on
// AVX-512 its aligned whole-vector tiles are stored past the caches, the last partial panel and
// an unaligned output the usual way. 8195 x 528 floats is 17 MB.
TYPED_TEST(Gemm, LargeSingleSliceProductsMatchReference) {
  using T = TypeParam;
  constexpr Index M = 8195, N = 528, K = 48;
  std::mt19937_64 rng(13);
  const auto a = random_vector<T>(M * K, rng), b = random_vector<T>(K * N, rng);
  const auto bias = random_vector<T>(N, rng);
  std::vector<T> expected(M * N);
  gemm_ref<T>(false, false, M, N, K, a.data(), b.data(), bias.data(), true, expected.data());
  const int saved_threads = get_num_threads();
  std::vector<T> storage(M * N + 64);
  for (const Index shift : {Index(0), Index(1)}) {  // a 64-byte aligned output, then one not
    T* c = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64) /
                                sizeof(T) % (64 / sizeof(T)) + shift;
    for (const int threads : {1, 2}) {
      SCOPED_TRACE("shift=" + std::to_string(shift) + " threads=" + std::to_string(threads));
      set_num_threads(threads);
      testing::for_each_isa([&] {
        std::fill(storage.begin(), storage.end(), T(-7));
        gemm<T>(false, false, M, N, K, a.data(), b.data(), bias.data(), true, c);
        EXPECT_TRUE(all_close(std::vector<T>(c, c + M * N), expected));
      });
    }
  }
  set_num_threads(saved_threads);
}

// Sums of outer products (a 1x1 convolution's kernel and bias gradients) against float64 sums:
// row counts around the chunking, column counts around the blocks (partial last blocks), empty
// operands, 1 to 3 threads splitting the rows; a second run on the same threads repeats bitwise.
TYPED_TEST(Gemm, OuterProductSumsMatchDoubleSums) {
  using T = TypeParam;
  const int saved_threads = get_num_threads();
  std::mt19937_64 rng(13);
  for (const Index P : {0, 1, 7, 300, 2001})
    for (const Index M : {0, 1, 5, 13, 64})
      for (const Index N : {0, 1, 5, 16, 33, 40}) {
        SCOPED_TRACE("P=" + std::to_string(P) + " M=" + std::to_string(M) +
                     " N=" + std::to_string(N));
        const auto a = random_vector<T>(P * M, rng), b = random_vector<T>(P * N, rng);
        std::vector<T> expected(M * N), expected_sums(N);
        for (Index j = 0; j < N; ++j) {
          for (Index i = 0; i < M; ++i) {
            double sum = 0;
            for (Index r = 0; r < P; ++r) sum += double(a[r * M + i]) * b[r * N + j];
            expected[i * N + j] = T(sum);
          }
          double sum = 0;
          for (Index r = 0; r < P; ++r) sum += b[r * N + j];
          expected_sums[j] = T(sum);
        }
        for (const int threads : {1, 2, 3}) {
          SCOPED_TRACE("threads=" + std::to_string(threads));
          set_num_threads(threads);
          testing::for_each_isa([&] {
            std::vector<T> c(M * N, T(-7)), sums(N, T(-7)), again(M * N, T(-7));
            outer_product_sums<T>(P, M, N, a.data(), b.data(), c.data(), sums.data());
            outer_product_sums<T>(P, M, N, a.data(), b.data(), again.data(), nullptr);
            EXPECT_TRUE(all_close(c, expected));
            EXPECT_TRUE(all_close(sums, expected_sums));
            EXPECT_EQ(c, again);
          });
        }
      }
  set_num_threads(saved_threads);
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
