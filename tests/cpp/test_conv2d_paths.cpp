// The specialised convolution paths against the references, on every ISA, at and around the
// sizes where the kernels switch path:
//   forward: whole-kernel-row runs (DW == 1, windows inside the image in width) next to the
//            per-tap path for border tiles and dilated columns;
//   backward-input: the column path for C <= half a channel block (a block is 4 to 32 lanes
//            depending on ISA and dtype) and the stride-phase path above it;
//   backward-kernel: whole-kernel-row runs and the per-tap path;
//   1x1 stride-1 convolutions, which run as matrix products (the input gradient in chunks of
//            pixels, 64 KiB of dy each).
// Each case also runs on 1 and 2 threads, since the column path splits work by image.
#include "cnnkit/conv2d.hpp"

#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::all_close;
using testing::ConvCase;
using testing::random_vector;

template <typename T>
class Conv2dPaths : public testing::DirectConvolution {};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Conv2dPaths, Dtypes);

constexpr Padding kValid = Padding::kValid, kSame = Padding::kSame;

// Channel counts around every half block and block: 2, 4, 8, 16 and 32 lanes.
const std::vector<Index> kChannels = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33};

std::vector<ConvCase> path_cases() {
  std::vector<ConvCase> cases;
  for (Index C : kChannels) {
    cases.push_back({2, 9, 14, C, 5, 3, 3, 1, 1, 1, 1, kValid});   // interior runs, 6-pixel tail
    cases.push_back({1, 8, 13, C, 17, 3, 3, 1, 1, 1, 1, kSame});   // border tiles use taps
    cases.push_back({3, 12, 15, C, 9, 7, 7, 2, 2, 1, 1, kSame});   // first-layer 7x7 stride 2
    cases.push_back({1, 11, 17, C, 6, 3, 3, 2, 3, 1, 1, kSame});   // stride phases, odd widths
    cases.push_back({2, 10, 12, C, 4, 3, 2, 1, 1, 2, 2, kSame});   // dilated: no runs
    cases.push_back({1, 7, 19, C, 33, 1, 5, 3, 2, 1, 1, kValid});  // wide kernel row, stride 2
    cases.push_back({2, 5, 11, C, 17, 1, 1, 1, 1, 2, 2, kSame});   // 1x1: a matrix product
    cases.push_back({1, 6, 7, C, 9, 1, 1, 2, 1, 1, 1, kValid});    // 1x1 stride 2: not one
    cases.push_back({2, 7, 9, C, 300, 1, 1, 1, 1, 1, 1, kValid});  // 1x1: several dy chunks
  }
  cases.push_back({1, 5, 5, 3, 4, 5, 5, 1, 1, 1, 1, kValid});   // kernel == input
  cases.push_back({4, 6, 6, 2, 3, 3, 3, 3, 3, 1, 1, kValid});   // stride == kernel
  cases.push_back({1, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, kValid}); // MNIST first layer
  cases.push_back({0, 3, 4, 5, 6, 1, 1, 1, 1, 1, 1, kValid});    // 1x1, empty batch: zero dw, db
  return cases;
}

// Runs body on every ISA at 1 and 2 threads, restoring the thread count.
template <typename Body>
void for_each_isa_and_threads(Body&& body) {
  const int threads = get_num_threads();
  for (int t : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(t));
    set_num_threads(t);
    testing::for_each_isa(body);
  }
  set_num_threads(threads);
}

TYPED_TEST(Conv2dPaths, ForwardMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(21);
  for (const ConvCase& c : path_cases()) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto x = random_vector<T>(g.N * g.H * g.W * g.C, rng);
    const auto w = random_vector<T>(g.KH * g.KW * g.C * g.OC, rng);
    const auto b = random_vector<T>(g.OC, rng);
    std::vector<T> expected(g.N * g.OH * g.OW * g.OC);
    conv2d_forward_ref<T>(g, x.data(), w.data(), b.data(), true, expected.data());
    for_each_isa_and_threads([&] {
      std::vector<T> y(expected.size(), T(-7));
      conv2d_forward<T>(g, x.data(), w.data(), b.data(), true, y.data());
      EXPECT_TRUE(all_close(y, expected));
    });
  }
}

TYPED_TEST(Conv2dPaths, BackwardInputMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(22);
  for (const ConvCase& c : path_cases()) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto dy = random_vector<T>(g.N * g.OH * g.OW * g.OC, rng);
    const auto w = random_vector<T>(g.KH * g.KW * g.C * g.OC, rng);
    std::vector<T> expected(g.N * g.H * g.W * g.C);
    conv2d_backward_input_ref<T>(g, dy.data(), w.data(), expected.data());
    for_each_isa_and_threads([&] {
      std::vector<T> dx(expected.size(), T(-7));  // every element must be overwritten
      conv2d_backward_input<T>(g, dy.data(), w.data(), dx.data());
      EXPECT_TRUE(all_close(dx, expected));
    });
  }
}

TYPED_TEST(Conv2dPaths, BackwardKernelMatchesReference) {
  using T = TypeParam;
  std::mt19937_64 rng(23);
  for (const ConvCase& c : path_cases()) {
    SCOPED_TRACE(c.str());
    const Conv2dGeometry g = c.geometry();
    const auto x = random_vector<T>(g.N * g.H * g.W * g.C, rng);
    const auto dy = random_vector<T>(g.N * g.OH * g.OW * g.OC, rng);
    std::vector<T> dw_ref(g.KH * g.KW * g.C * g.OC), db_ref(g.OC);
    conv2d_backward_kernel_ref<T>(g, x.data(), dy.data(), dw_ref.data(), db_ref.data());
    for_each_isa_and_threads([&] {
      std::vector<T> dw(dw_ref.size(), T(-7)), db(db_ref.size(), T(-7));
      conv2d_backward_kernel<T>(g, x.data(), dy.data(), dw.data(), db.data());
      EXPECT_TRUE(all_close(dw, dw_ref)) << "dw";
      EXPECT_TRUE(all_close(db, db_ref)) << "db";
    });
  }
}

}  // namespace
}  // namespace cnnkit
