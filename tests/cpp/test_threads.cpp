// Thread-count invariance and reproducibility of the parallel kernels.
#include <omp.h>

#include <atomic>

#include "cnnkit/conv2d.hpp"
#include "cnnkit/parallel.hpp"
#include "cnnkit/pool2d.hpp"

#include "testing.hpp"

namespace cnnkit {
namespace {

using testing::all_close;
using testing::random_vector;

// Restores the thread count a test changes.
class ThreadCount : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(saved_); }
  int saved_ = get_num_threads();
};

TEST_F(ThreadCount, SetAndGetRoundTripAndRejectNonPositive) {
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  EXPECT_THROW(set_num_threads(0), std::invalid_argument);
  EXPECT_THROW(set_num_threads(-2), std::invalid_argument);
  EXPECT_EQ(get_num_threads(), 3);
}

TEST_F(ThreadCount, DynamicLoopHandsOutEveryItemOnce) {
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    for (Index count : {0, 1, 2, 7, 100}) {
      std::vector<std::atomic<int>> seen(count);
      std::atomic<int> bodies{0};
      parallel_for_dynamic(count, [&](auto next, int thread) {
        EXPECT_GE(thread, 0);
        EXPECT_LT(thread, threads);
        ++bodies;
        for (Index item = next(); item >= 0; item = next()) ++seen[item];
        EXPECT_EQ(next(), -1) << "no item after the first -1";
      });
      EXPECT_EQ(bodies, std::min<Index>(count, threads)) << count << " items, " << threads;
      for (Index i = 0; i < count; ++i)
        EXPECT_EQ(seen[i], 1) << "item " << i << " of " << count << ", " << threads << " threads";
    }
  }
}

// OpenMP may give a team fewer threads than asked for: one, inside another parallel region.
// Those threads still cover every item once.
TEST_F(ThreadCount, SmallerTeamStillCoversEveryItem) {
  set_num_threads(3);
  constexpr Index kCount = 100;
  std::vector<std::atomic<int>> seen(2 * kCount);
#pragma omp parallel num_threads(2)
  {
    const Index offset = omp_get_thread_num() * kCount;
    parallel_for(kCount, [&](Index begin, Index end, int) {
      for (Index item = begin; item < end; ++item) ++seen[offset + item];
    });
  }
  for (Index i = 0; i < 2 * kCount; ++i) EXPECT_EQ(seen[i], 1) << "item " << i % kCount;
}

TEST_F(ThreadCount, ResultsAgreeAcrossThreadCountsAndRepeatBitwise) {
  const Conv2dGeometry g =
      make_conv2d_geometry("test", 5, 13, 11, 7, 19, 3, 3, 1, 2, 1, 1, Padding::kSame);
  std::mt19937_64 rng(8);
  const Index nx = g.N * g.H * g.W * g.C, nw = g.KH * g.KW * g.C * g.OC;
  const Index ny = g.N * g.OH * g.OW * g.OC;
  const auto x = random_vector<float>(nx, rng), w = random_vector<float>(nw, rng);
  const auto dy = random_vector<float>(ny, rng);
  struct Outputs {
    std::vector<float> y, dx, dw, db, pooled;
  };
  auto run = [&] {
    Outputs o{std::vector<float>(ny), std::vector<float>(nx), std::vector<float>(nw),
              std::vector<float>(g.OC), std::vector<float>(nx)};
    conv2d_forward<float>(g, x.data(), w.data(), nullptr, true, o.y.data());
    conv2d_backward_input<float>(g, dy.data(), w.data(), o.dx.data());
    conv2d_backward_kernel<float>(g, x.data(), dy.data(), o.dw.data(), o.db.data());
    const Conv2dGeometry p = make_pool2d_geometry("test", g.N, g.H, g.W, g.C, 3, 3, 1, 1, Padding::kSame);
    max_pool2d_backward<float>(p, x.data(), x.data(), o.pooled.data());
    return o;
  };
  testing::for_each_isa([&] {
    set_num_threads(1);
    const Outputs one = run();
    for (int threads : {2, 3, 4}) {
      set_num_threads(threads);
      const Outputs many = run(), again = run();
      SCOPED_TRACE("threads " + std::to_string(threads));
      EXPECT_TRUE(all_close(many.y, one.y));
      EXPECT_TRUE(all_close(many.dx, one.dx));
      EXPECT_TRUE(all_close(many.dw, one.dw));
      EXPECT_TRUE(all_close(many.db, one.db));
      EXPECT_EQ(many.pooled, one.pooled);
      EXPECT_EQ(again.dw, many.dw) << "a fixed thread count must reproduce bitwise";
      EXPECT_EQ(again.db, many.db);
    }
  });
}

}  // namespace
}  // namespace cnnkit
