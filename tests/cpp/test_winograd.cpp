// Winograd convolution (3x3 stride 1, and the phase-split 3x3 stride-2 passes) against the
// direct-loop references within its stated accuracy bound, on every ISA, and the rule that
// decides when the plain conv2d functions use it.
#include "cnnkit/winograd.hpp"

#include <cmath>

#include "cnnkit/conv2d.hpp"
#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::ConvCase;
using testing::random_vector;

// Relative error the documentation promises: max |actual - expected| over max |expected|.
template <typename T>
constexpr double bound() {
  return sizeof(T) == 4 ? 1e-4 : 1e-12;
}

template <typename T>
double relative_error(const std::vector<T>& actual, const std::vector<T>& expected) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    diff = std::max(diff, std::fabs(double(actual[i]) - double(expected[i])));
    scale = std::max(scale, std::fabs(double(expected[i])));
  }
  if (std::isnan(diff)) return diff;
  return scale > 0 ? diff / scale : diff;
}

// Random 3x3 cases with the given stride, sizes around the tile, vector and block sizes, until
// there are `total`.
void add_random_3x3_cases(Index stride, size_t total, unsigned seed, std::vector<ConvCase>* cases) {
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<Index>& from) { return from[rng() % from.size()]; };
  while (cases->size() < total) {
    ConvCase c{pick({1, 2, 3}), pick(testing::edge_sizes()), pick(testing::edge_sizes()),
               pick(testing::edge_sizes()), pick(testing::edge_sizes()), 3, 3, stride, stride, 1, 1,
               rng() % 2 ? Padding::kSame : Padding::kValid};
    if (c.H < 3 || c.W < 3) c.padding = Padding::kSame;
    cases->push_back(c);
  }
}

// 3x3 stride-1 cases: tiles cut by the image edge (sizes that are not multiples of 2 or 4), images
// smaller than a tile, channel counts around the vector and block sizes, and real layer sizes.
std::vector<ConvCase> winograd_cases() {
  std::vector<ConvCase> cases = {
      {1, 3, 3, 1, 1, 3, 3, 1, 1, 1, 1, Padding::kValid},     // kernel == input: one output
      {1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, Padding::kSame},      // one pixel
      {2, 2, 7, 3, 5, 3, 3, 1, 1, 1, 1, Padding::kSame},
      {1, 26, 26, 32, 64, 3, 3, 1, 1, 1, 1, Padding::kValid}, // seed model A, layer 2
      {2, 14, 14, 256, 64, 3, 3, 1, 1, 1, 1, Padding::kSame}, // long reductions
      {1, 9, 13, 64, 256, 3, 3, 1, 1, 1, 1, Padding::kSame},
      {0, 5, 5, 2, 3, 3, 3, 1, 1, 1, 1, Padding::kValid},     // empty batch
  };
  add_random_3x3_cases(1, 60, 21, &cases);
  return cases;
}

template <typename T>
class Winograd : public ::testing::Test {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Winograd, Dtypes);

// 3x3 stride-2 cases for the phase-split forward pass: tiles cut by the image edge (outputs not
// a multiple of 4, odd inputs whose last patch row is padding), images smaller than a patch,
// channel counts around the vector and block sizes, and real layer sizes.
std::vector<ConvCase> stride2_cases() {
  std::vector<ConvCase> cases = {
      {1, 3, 3, 1, 1, 3, 3, 2, 2, 1, 1, Padding::kValid},      // kernel == input: one output
      {1, 1, 1, 2, 3, 3, 3, 2, 2, 1, 1, Padding::kSame},       // one pixel
      {2, 56, 56, 128, 128, 3, 3, 2, 2, 1, 1, Padding::kSame}, // layer k
      {1, 17, 16, 64, 33, 3, 3, 2, 2, 1, 1, Padding::kValid},
      {0, 9, 9, 16, 4, 3, 3, 2, 2, 1, 1, Padding::kSame},      // empty batch
  };
  add_random_3x3_cases(2, 50, 22, &cases);
  return cases;
}

// One way of running a pass: its thread count and, for stride 1, the tile size m.
struct Variant {
  int threads, m;
};

// For every case, the pass `run(m, g, ...)` on every ISA and variant within the bound of the
// float64 reference. Forward, with and without bias + relu:
template <typename T, typename Run>
void expect_forward_within_bound(const std::vector<ConvCase>& cases, unsigned seed,
                                 const std::vector<Variant>& variants, Run&& run) {
  std::mt19937_64 rng(seed);
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto x = random_vector<T>(g.N * g.H * g.W * g.C, rng);
    const auto w = random_vector<T>(9 * g.C * g.OC, rng), b = random_vector<T>(g.OC, rng);
    for (bool relu : {false, true}) {
      const T* bias = relu ? b.data() : nullptr;
      std::vector<T> expected(g.N * g.OH * g.OW * g.OC);
      conv2d_forward_ref<T>(g, x.data(), w.data(), bias, relu, expected.data());
      for (const Variant& v : variants) {
        const testing::ThreadCount scope(v.threads);
        testing::for_each_isa([&] {
          std::vector<T> y(expected.size(), T(-7));
          run(v.m, g, x.data(), w.data(), bias, relu, y.data());
          EXPECT_LE(relative_error(y, expected), bound<T>())
              << "m=" << v.m << " threads=" << v.threads << " relu=" << relu;
        });
      }
    }
  }
}

// Backward-input.
template <typename T, typename Run>
void expect_backward_input_within_bound(const std::vector<ConvCase>& cases, unsigned seed,
                                        const std::vector<Variant>& variants, Run&& run) {
  std::mt19937_64 rng(seed);
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto dy = random_vector<T>(g.N * g.OH * g.OW * g.OC, rng);
    const auto w = random_vector<T>(9 * g.C * g.OC, rng);
    std::vector<T> expected(g.N * g.H * g.W * g.C);
    conv2d_backward_input_ref<T>(g, dy.data(), w.data(), expected.data());
    for (const Variant& v : variants) {
      const testing::ThreadCount scope(v.threads);
      testing::for_each_isa([&] {
        std::vector<T> dx(expected.size(), T(-7));
        run(v.m, g, dy.data(), w.data(), dx.data());
        EXPECT_LE(relative_error(dx, expected), bound<T>())
            << "m=" << v.m << " threads=" << v.threads;
      });
    }
  }
}

// Backward-kernel, with and without the bias gradient.
template <typename T, typename Run>
void expect_backward_kernel_within_bound(const std::vector<ConvCase>& cases, unsigned seed,
                                         const std::vector<Variant>& variants, Run&& run) {
  std::mt19937_64 rng(seed);
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto x = random_vector<T>(g.N * g.H * g.W * g.C, rng);
    const auto dy = random_vector<T>(g.N * g.OH * g.OW * g.OC, rng);
    std::vector<T> expected_dw(9 * g.C * g.OC), expected_db(g.OC);
    conv2d_backward_kernel_ref<T>(g, x.data(), dy.data(), expected_dw.data(), expected_db.data());
    for (const Variant& v : variants) {
      const testing::ThreadCount scope(v.threads);
      testing::for_each_isa([&] {
        std::vector<T> dw(expected_dw.size(), T(-7)), db(g.OC, T(-7));
        run(v.m, g, x.data(), dy.data(), dw.data(), db.data());
        EXPECT_LE(relative_error(dw, expected_dw), bound<T>())
            << "m=" << v.m << " threads=" << v.threads;
        EXPECT_LE(relative_error(db, expected_db), bound<T>())
            << "m=" << v.m << " threads=" << v.threads;
        EXPECT_TRUE(testing::all_close(db, expected_db)) << "m=" << v.m << " threads=" << v.threads;
        run(v.m, g, x.data(), dy.data(), dw.data(), nullptr);
        EXPECT_LE(relative_error(dw, expected_dw), bound<T>()) << "m=" << v.m << ", no db";
      });
    }
  }
}

// Stride 1 at the current thread count, both tile sizes; the kernel gradient also at 8 threads,
// where with few tiles each the threads split the products instead of summing groups of tiles.
std::vector<Variant> tile_sizes(std::vector<int> threads) {
  std::vector<Variant> variants;
  for (int t : threads)
    for (int m : {2, 4}) variants.push_back({t, m});
  return variants;
}

// Stride 2 at 1 and 3 threads (tile groups split between threads).
const std::vector<Variant> kStride2Variants = {{1, 0}, {3, 0}};

TYPED_TEST(Winograd, ForwardWithinBoundOfReference) {
  using T = TypeParam;
  expect_forward_within_bound<T>(winograd_cases(), 1, tile_sizes({get_num_threads()}),
                                 [](int m, const Conv2dGeometry& g, auto... args) {
                                   conv2d_forward_winograd<T>(g, m, args...);
                                 });
}

TYPED_TEST(Winograd, BackwardInputWithinBoundOfReference) {
  using T = TypeParam;
  expect_backward_input_within_bound<T>(winograd_cases(), 2, tile_sizes({get_num_threads()}),
                                        [](int m, const Conv2dGeometry& g, auto... args) {
                                          conv2d_backward_input_winograd<T>(g, m, args...);
                                        });
}

TYPED_TEST(Winograd, BackwardKernelWithinBoundOfReference) {
  using T = TypeParam;
  expect_backward_kernel_within_bound<T>(winograd_cases(), 4, tile_sizes({1, 8}),
                                         [](int m, const Conv2dGeometry& g, auto... args) {
                                           conv2d_backward_kernel_winograd<T>(g, m, args...);
                                         });
}

TYPED_TEST(Winograd, Stride2ForwardWithinBoundOfReference) {
  using T = TypeParam;
  expect_forward_within_bound<T>(stride2_cases(), 5, kStride2Variants,
                                 [](int, const Conv2dGeometry& g, auto... args) {
                                   conv2d_forward_winograd_stride2<T>(g, args...);
                                 });
}

TYPED_TEST(Winograd, Stride2BackwardInputWithinBoundOfReference) {
  using T = TypeParam;
  expect_backward_input_within_bound<T>(stride2_cases(), 6, kStride2Variants,
                                        [](int, const Conv2dGeometry& g, auto... args) {
                                          conv2d_backward_input_winograd_stride2<T>(g, args...);
                                        });
}

TYPED_TEST(Winograd, Stride2BackwardKernelWithinBoundOfReference) {
  using T = TypeParam;
  expect_backward_kernel_within_bound<T>(stride2_cases(), 7, kStride2Variants,
                                         [](int, const Conv2dGeometry& g, auto... args) {
                                           conv2d_backward_kernel_winograd_stride2<T>(g, args...);
                                         });
}

// With few tiles per thread the products are split between threads, each summed over all tiles
// in order by one thread: the same bits for any thread count that splits them.
TEST(WinogradKernelGradient, SplitProductsRepeatForAnyThreadCount) {
  const Conv2dGeometry g = make_conv2d_geometry("test", 2, 14, 14, 256, 64, 3, 3, 1, 1, 1, 1,
                                                Padding::kSame);
  std::mt19937_64 rng(5);
  const auto x = random_vector<float>(g.N * g.H * g.W * g.C, rng);
  const auto dy = random_vector<float>(g.N * g.OH * g.OW * g.OC, rng);
  std::vector<float> dw4(9 * g.C * g.OC), db4(g.OC), dw(dw4.size()), db(g.OC);
  for (int m : {2, 4}) {
    {
      testing::ThreadCount count(4);
      conv2d_backward_kernel_winograd<float>(g, m, x.data(), dy.data(), dw4.data(), db4.data());
    }
    for (int threads : {5, 8, 16}) {
      testing::ThreadCount count(threads);
      conv2d_backward_kernel_winograd<float>(g, m, x.data(), dy.data(), dw.data(), db.data());
      EXPECT_EQ(dw, dw4) << "m=" << m << ", " << threads << " threads";
      EXPECT_EQ(db, db4) << "m=" << m << ", " << threads << " threads";
    }
  }
}

// Forward and input-gradient groups go to whichever thread is free, and their size depends on the
// thread count; each tile's sums do not, so every thread count gives the same bits.
TEST(WinogradCorrelation, SameBitsForAnyThreadCount) {
  const Conv2dGeometry g = make_conv2d_geometry("test", 3, 14, 13, 64, 72, 3, 3, 1, 1, 1, 1,
                                                Padding::kSame);
  std::mt19937_64 rng(9);
  const auto x = random_vector<float>(g.N * g.H * g.W * g.C, rng);
  const auto w = random_vector<float>(9 * g.C * g.OC, rng), b = random_vector<float>(g.OC, rng);
  const auto dy = random_vector<float>(g.N * g.OH * g.OW * g.OC, rng);
  for (int m : {2, 4}) {
    const auto run = [&](int threads) {
      testing::ThreadCount count(threads);
      std::vector<float> y(dy.size()), dx(x.size());
      conv2d_forward_winograd<float>(g, m, x.data(), w.data(), b.data(), true, y.data());
      conv2d_backward_input_winograd<float>(g, m, dy.data(), w.data(), dx.data());
      return std::make_pair(y, dx);
    };
    const auto one = run(1);
    for (int threads : {2, 3, 8}) {
      const auto many = run(threads);
      EXPECT_EQ(many.first, one.first) << "forward, m=" << m << ", " << threads << " threads";
      EXPECT_EQ(many.second, one.second) << "input gradient, m=" << m << ", " << threads
                                         << " threads";
    }
  }
}

Conv2dGeometry layer(Index C, Index OC, Index K, Index S, Index D) {
  return make_conv2d_geometry("test", 8, 28, 28, C, OC, K, K, S, S, D, D, Padding::kSame);
}

TEST(WinogradChoice, OnlyFloat3x3Stride1UndilatedWithEnoughChannels) {
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 3, 1, 1), ConvPass::kForward), 4);
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 3, 1, 1), ConvPass::kBackwardInput), 4);
  EXPECT_EQ(winograd_tile<double>(layer(64, 64, 3, 1, 1), ConvPass::kForward), 0);
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 5, 1, 1), ConvPass::kForward), 0);
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 3, 2, 1), ConvPass::kForward), 0);
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 3, 1, 2), ConvPass::kForward), 0);
  // It reduces over the input channels of its direction: few of them keep the direct kernels.
  EXPECT_EQ(winograd_tile<float>(layer(1, 32, 3, 1, 1), ConvPass::kForward), 0);  // first layer
  EXPECT_EQ(winograd_tile<float>(layer(32, 8, 3, 1, 1), ConvPass::kForward), 4);
  EXPECT_EQ(winograd_tile<float>(layer(32, 8, 3, 1, 1), ConvPass::kBackwardInput), 0);
  EXPECT_EQ(winograd_tile<float>(layer(64, 64, 3, 1, 1), ConvPass::kBackwardKernel), 4);
  EXPECT_EQ(winograd_tile<float>(layer(8, 64, 3, 1, 1), ConvPass::kBackwardKernel), 0);
}

TEST(WinogradChoice, Stride2OnlyFloat3x3UndilatedWithEnoughChannels) {
  const auto chosen = [](const Conv2dGeometry& g, ConvPass pass = ConvPass::kForward) {
    return winograd_stride2<float>(g, pass);
  };
  EXPECT_TRUE(chosen(layer(128, 128, 3, 2, 1)));
  EXPECT_TRUE(chosen(layer(128, 128, 3, 2, 1), ConvPass::kBackwardInput));
  EXPECT_TRUE(chosen(layer(128, 128, 3, 2, 1), ConvPass::kBackwardKernel));
  EXPECT_FALSE(chosen(layer(8, 128, 3, 2, 1), ConvPass::kBackwardKernel));
  EXPECT_FALSE(winograd_stride2<double>(layer(128, 128, 3, 2, 1), ConvPass::kForward));
  // It reduces over the input channels of its direction: few of them keep the direct kernels.
  EXPECT_TRUE(chosen(layer(16, 4, 3, 2, 1)));
  EXPECT_FALSE(chosen(layer(16, 4, 3, 2, 1), ConvPass::kBackwardInput));
  EXPECT_FALSE(chosen(layer(8, 128, 3, 2, 1)));
  EXPECT_TRUE(chosen(layer(8, 128, 3, 2, 1), ConvPass::kBackwardInput));
  EXPECT_FALSE(chosen(layer(128, 128, 3, 1, 1)));  // stride 1: winograd_tile
  EXPECT_FALSE(chosen(layer(128, 128, 5, 2, 1)));
  EXPECT_FALSE(chosen(layer(128, 128, 3, 2, 2)));
  EXPECT_FALSE(chosen(make_conv2d_geometry("test", 1, 9, 9, 32, 32, 3, 3, 2, 1, 1, 1,
                                           Padding::kSame)));
  set_winograd_enabled(false);
  EXPECT_FALSE(chosen(layer(128, 128, 3, 2, 1)));
  set_winograd_enabled(true);
}

// The plain functions take the phase split for a stride-2 layer: bitwise the forced ones.
TEST(WinogradChoice, Stride2PassesAreTheForcedPhaseSplit) {
  const Conv2dGeometry g = layer(32, 20, 3, 2, 1);
  std::mt19937_64 rng(4);
  const auto x = random_vector<float>(g.N * g.H * g.W * g.C, rng);
  const auto w = random_vector<float>(9 * g.C * g.OC, rng), b = random_vector<float>(g.OC, rng);
  std::vector<float> automatic(g.N * g.OH * g.OW * g.OC), forced(automatic.size());
  conv2d_forward<float>(g, x.data(), w.data(), b.data(), true, automatic.data());
  conv2d_forward_winograd_stride2<float>(g, x.data(), w.data(), b.data(), true, forced.data());
  EXPECT_EQ(automatic, forced);
  const auto dy = random_vector<float>(automatic.size(), rng);
  std::vector<float> dx(x.size()), dx_forced(x.size());
  conv2d_backward_input<float>(g, dy.data(), w.data(), dx.data());
  conv2d_backward_input_winograd_stride2<float>(g, dy.data(), w.data(), dx_forced.data());
  EXPECT_EQ(dx, dx_forced);
  std::vector<float> dw(w.size()), db(g.OC), dw_forced(w.size()), db_forced(g.OC);
  conv2d_backward_kernel<float>(g, x.data(), dy.data(), dw.data(), db.data());
  conv2d_backward_kernel_winograd_stride2<float>(g, x.data(), dy.data(), dw_forced.data(),
                                                 db_forced.data());
  EXPECT_EQ(dw, dw_forced);
  EXPECT_EQ(db, db_forced);
}

TEST(WinogradChoice, SmallerTilesWhereLargeOnesWasteOutputs) {
  auto square = [](Index size) {
    return make_conv2d_geometry("test", 8, size, size, 64, 64, 3, 3, 1, 1, 1, 1, Padding::kSame);
  };
  EXPECT_EQ(winograd_tile<float>(square(14), ConvPass::kForward), 2);  // 16x16 computed for 14x14
  EXPECT_EQ(winograd_tile<float>(square(14), ConvPass::kBackwardInput), 2);
  EXPECT_EQ(winograd_tile<float>(square(14), ConvPass::kBackwardKernel), 4);  // its bar is higher
  EXPECT_EQ(winograd_tile<float>(square(10), ConvPass::kBackwardKernel), 2);  // 12x12 for 10x10
  EXPECT_EQ(winograd_tile<float>(square(16), ConvPass::kForward), 4);
  EXPECT_EQ(winograd_tile<float>(square(7), ConvPass::kForward), 4);   // both compute 8x8
}

TEST(WinogradChoice, SwitchOffGivesTheDirectKernelsBitwise) {
  const Conv2dGeometry g = layer(32, 48, 3, 1, 1);
  ASSERT_NE(winograd_tile<float>(g, ConvPass::kForward), 0);
  std::mt19937_64 rng(3);
  const auto x = random_vector<float>(g.N * g.H * g.W * g.C, rng);
  const auto w = random_vector<float>(9 * g.C * g.OC, rng);
  const size_t ny = g.N * g.OH * g.OW * g.OC;
  std::vector<float> automatic(ny), forced(ny), direct(ny), direct_again(ny);
  conv2d_forward<float>(g, x.data(), w.data(), nullptr, false, automatic.data());
  conv2d_forward_winograd<float>(g, winograd_tile<float>(g, ConvPass::kForward), x.data(), w.data(), nullptr,
                                 false, forced.data());
  EXPECT_EQ(automatic, forced);

  set_winograd_enabled(false);
  EXPECT_EQ(winograd_tile<float>(g, ConvPass::kForward), 0);
  conv2d_forward<float>(g, x.data(), w.data(), nullptr, false, direct.data());
  set_winograd_enabled(true);
  EXPECT_NE(direct, automatic);
  EXPECT_TRUE(testing::all_close(direct, automatic, 5.0));
}

TEST(WinogradChoice, RejectsGeometriesItCannotCompute) {
  const Conv2dGeometry g = layer(8, 8, 5, 1, 1);
  std::vector<float> x(g.N * g.H * g.W * g.C), w(25 * 64), y(g.N * g.OH * g.OW * g.OC);
  EXPECT_THROW(conv2d_forward_winograd<float>(g, 4, x.data(), w.data(), nullptr, false, y.data()),
               std::invalid_argument);
  EXPECT_THROW(conv2d_forward_winograd_stride2<float>(layer(8, 8, 3, 1, 1), x.data(), w.data(),
                                                     nullptr, false, y.data()),
               std::invalid_argument);
  EXPECT_THROW(conv2d_backward_input_winograd_stride2<float>(layer(8, 8, 3, 2, 2), y.data(),
                                                            w.data(), x.data()),
               std::invalid_argument);
  const Conv2dGeometry ok = layer(8, 8, 3, 1, 1);
  EXPECT_THROW(conv2d_forward_winograd<float>(ok, 3, x.data(), w.data(), nullptr, false, y.data()),
               std::invalid_argument);
}

}  // namespace
}  // namespace cnnkit
