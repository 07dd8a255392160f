// Kernels run with denormals flushed to zero (inputs read as zero, results flushed) on every
// thread that computes, and leave the floating-point control register of the caller and of the
// OpenMP workers exactly as they found it.
#include <omp.h>

#include <cfenv>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cnnkit/conv2d.hpp"
#include "cnnkit/denormals.hpp"
#include "cnnkit/filter2d.hpp"
#include "cnnkit/gemm.hpp"
#include "cnnkit/pool2d.hpp"
#include "testing.hpp"

namespace cnnkit {
namespace {

// Restores the thread count a test changes.
class Denormals : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FlushDenormals::kBits == 0) GTEST_SKIP() << "no flush-to-zero control on this CPU";
  }
  void TearDown() override { set_num_threads(saved_); }
  int saved_ = get_num_threads();
};

// Random sign times [1, 2) times 2^exponent.
float scaled(std::mt19937_64& rng, int exponent) {
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  return float(std::ldexp((rng() % 2 ? -1 : 1) * mantissa(rng), exponent));
}

// Operands that give products near 2^-20 with the small ones below.
std::vector<float> large(Index count, std::mt19937_64& rng) {
  std::vector<float> v(static_cast<size_t>(count));
  for (float& e : v) e = scaled(rng, 100);
  return v;
}

// Small normal values (near 2^-120) with every third replaced by a denormal (near 2^-135); the
// second vector has zeros there instead. Next to the small normal terms a denormal one changes
// a float32 sum by about 2^-15 relative, so a kernel that read the denormals would differ
// visibly from one that read zeros.
struct SmallOperand {
  std::vector<float> with_denormals, with_zeros;
};
SmallOperand small_with_denormals(Index count, std::mt19937_64& rng) {
  SmallOperand s;
  for (Index i = 0; i < count; ++i) {
    const bool denormal = i % 3 == 1;
    const float v = scaled(rng, denormal ? -135 : -120);
    s.with_denormals.push_back(v);
    s.with_zeros.push_back(denormal ? 0.f : v);
  }
  return s;
}

// One float32 kernel call whose operand `small` receives the denormals; every other operand is
// fixed. Returns all outputs, concatenated.
struct Op {
  std::string name;
  Index small_count;
  std::function<std::vector<float>(const std::vector<float>& small)> run;
};

std::vector<Op> ops(std::mt19937_64& rng) {
  std::vector<Op> ops;
  // Few channels (kernel-row runs, per-pixel columns), many (channel blocks, stride phases,
  // dilation), and a 3x3 stride-1 layer wide enough for the Winograd path where it exists.
  const std::vector<Conv2dGeometry> convs = {
      make_conv2d_geometry("test", 2, 9, 8, 3, 5, 3, 3, 1, 1, 1, 1, Padding::kSame),
      make_conv2d_geometry("test", 2, 11, 10, 20, 17, 3, 2, 2, 1, 1, 2, Padding::kSame),
      make_conv2d_geometry("test", 1, 10, 9, 16, 16, 3, 3, 1, 1, 1, 1, Padding::kSame)};
  for (const Conv2dGeometry& g : convs) {
    const Index nx = g.N * g.H * g.W * g.C, nw = g.KH * g.KW * g.C * g.OC;
    const Index ny = g.N * g.OH * g.OW * g.OC;
    const std::string c = " C=" + std::to_string(g.C);
    const auto w = large(nw, rng), x = large(nx, rng), dy = large(ny, rng);
    std::vector<float> b;
    for (Index o = 0; o < g.OC; ++o) b.push_back(scaled(rng, -20));
    ops.push_back({"conv2d_forward" + c, nx, [=](const std::vector<float>& xs) {
                     std::vector<float> y(ny);
                     conv2d_forward<float>(g, xs.data(), w.data(), b.data(), false, y.data());
                     return y;
                   }});
    ops.push_back({"conv2d_backward_input" + c, ny, [=](const std::vector<float>& dys) {
                     std::vector<float> dx(nx);
                     conv2d_backward_input<float>(g, dys.data(), w.data(), dx.data());
                     return dx;
                   }});
    ops.push_back({"conv2d_backward_kernel, small x" + c, nx, [=](const std::vector<float>& xs) {
                     std::vector<float> dw(nw), db(g.OC);
                     conv2d_backward_kernel<float>(g, xs.data(), dy.data(), dw.data(), db.data());
                     dw.insert(dw.end(), db.begin(), db.end());
                     return dw;
                   }});
    ops.push_back({"conv2d_backward_kernel, small dy" + c, ny, [=](const std::vector<float>& dys) {
                     std::vector<float> dw(nw), db(g.OC);
                     conv2d_backward_kernel<float>(g, x.data(), dys.data(), dw.data(), db.data());
                     dw.insert(dw.end(), db.begin(), db.end());
                     return dw;
                   }});
  }
  // Max pooling only selects values, so it is not here: see avg pooling for the arithmetic.
  const Conv2dGeometry p = make_pool2d_geometry("test", 2, 7, 9, 19, 3, 3, 2, 2, Padding::kSame);
  const Index px = p.N * p.H * p.W * p.C, py = p.N * p.OH * p.OW * p.C;
  ops.push_back({"avg_pool2d_forward", px, [=](const std::vector<float>& xs) {
                   std::vector<float> y(py);
                   avg_pool2d_forward<float>(p, xs.data(), y.data());
                   return y;
                 }});
  ops.push_back({"avg_pool2d_backward", py, [=](const std::vector<float>& dys) {
                   std::vector<float> dx(px);
                   avg_pool2d_backward<float>(p, dys.data(), dx.data());
                   return dx;
                 }});
  const Index M = 13, N = 19, K = 37;
  const auto b = large(K * N, rng);
  ops.push_back({"gemm", M * K, [=](const std::vector<float>& a) {
                   std::vector<float> c(M * N);
                   gemm<float>(false, false, M, N, K, a.data(), b.data(), nullptr, false, c.data());
                   return c;
                 }});
  // A small image runs on the calling thread, a large one through parallel_for.
  for (Index P : {1, 3}) {
    const Index side = P == 1 ? 20 : 120;
    const Filter2dGeometry f =
        make_filter2d_geometry(P, side, side, 3, 3, side, side, 1, 1, Boundary::kFill);
    const auto w = large(9, rng);
    ops.push_back({"filter2d P=" + std::to_string(P), P * side * side,
                   [=](const std::vector<float>& xs) {
                     std::vector<float> y(P * side * side);
                     filter2d<float>(f, xs.data(), w.data(), 0.f, y.data());
                     return y;
                   }});
  }
  return ops;
}

TEST_F(Denormals, InputsActAsZero) {
  std::mt19937_64 rng(11);
  const std::vector<Op> all = ops(rng);
  testing::for_each_isa([&] {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const Op& op : all) {
        SCOPED_TRACE(op.name + ", threads " + std::to_string(threads));
        const SmallOperand small = small_with_denormals(op.small_count, rng);
        const std::vector<float> with_zeros = op.run(small.with_zeros);
        EXPECT_EQ(op.run(small.with_denormals), with_zeros);  // == : -0 and +0 agree
        Index nonzero = 0;
        for (float v : with_zeros) nonzero += v != 0.f;
        EXPECT_GT(nonzero, Index(with_zeros.size()) / 2) << "the normal inputs must count";
      }
    }
  });
}

TEST_F(Denormals, ResultsAreFlushed) {
  // Every product is 2^-140, a denormal float: flushed, the sums stay exactly zero.
  const Conv2dGeometry g = make_conv2d_geometry("test", 1, 6, 7, 8, 9, 3, 3, 1, 1, 1, 1,
                                                Padding::kValid);
  const std::vector<float> x(g.N * g.H * g.W * g.C, std::ldexp(1.f, -70));
  const std::vector<float> w(g.KH * g.KW * g.C * g.OC, std::ldexp(1.f, -70));
  const std::vector<float> zeros(g.N * g.OH * g.OW * g.OC, 0.f);
  testing::for_each_isa([&] {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      SCOPED_TRACE("threads " + std::to_string(threads));
      std::vector<float> y(zeros.size(), 1.f);
      conv2d_forward<float>(g, x.data(), w.data(), nullptr, false, y.data());
      EXPECT_EQ(y, zeros);
      std::vector<float> c(5 * 9, 1.f);
      gemm<float>(false, false, 5, 9, 8, x.data(), w.data(), nullptr, false, c.data());
      EXPECT_EQ(c, std::vector<float>(c.size(), 0.f));
    }
  });
}

// Every kernel once, on ordinary data prepared in advance: calling one does no arithmetic
// outside the kernel.
std::vector<std::function<void()>> every_kernel(std::mt19937_64& rng) {
  std::vector<std::function<void()>> calls;
  for (const Op& op : ops(rng))
    calls.push_back([op, small = testing::random_vector<float>(op.small_count, rng)] {
      op.run(small);
    });
  const Conv2dGeometry p = make_pool2d_geometry("test", 2, 8, 8, 5, 2, 2, 2, 2, Padding::kValid);
  const auto x = testing::random_vector<float>(p.N * p.H * p.W * p.C, rng);
  const auto dy = testing::random_vector<float>(p.N * p.OH * p.OW * p.C, rng);
  calls.push_back([=] {
    std::vector<float> y(dy.size()), dx(x.size());
    max_pool2d_forward<float>(p, x.data(), y.data());
    max_pool2d_backward<float>(p, x.data(), dy.data(), dx.data());
  });
  return calls;
}

TEST_F(Denormals, CallerRegisterIsUnchanged) {
  std::mt19937_64 rng(12);
  const auto calls = every_kernel(rng);
  std::feclearexcept(FE_ALL_EXCEPT);  // the kernels raise "inexact": it must not come back
  const std::uint64_t original = FlushDenormals::read();
  std::fesetround(FE_UPWARD);
  const std::uint64_t upward = FlushDenormals::read();
  // Default state, flushing already on (it must stay on), and a different rounding mode.
  for (std::uint64_t state : {original, original | FlushDenormals::kBits, upward}) {
    testing::for_each_isa([&] {
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (size_t i = 0; i < calls.size(); ++i) {
          FlushDenormals::write(state);
          calls[i]();
          const std::uint64_t after = FlushDenormals::read();
          FlushDenormals::write(original);
          EXPECT_EQ(after, state) << "call " << i << ", state " << state << ", threads "
                                  << threads;
        }
      }
    });
  }
}

TEST_F(Denormals, EveryThreadOfParallelForFlushes) {
  const std::uint64_t before = FlushDenormals::read();
  set_num_threads(4);
  std::vector<std::uint64_t> seen(4, 0);
  parallel_for(4, [&](Index, Index, int thread) { seen[thread] = FlushDenormals::read(); });
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(seen[t] & FlushDenormals::kBits, FlushDenormals::kBits) << "thread " << t;
  EXPECT_EQ(FlushDenormals::read(), before);
  set_num_threads(1);
  parallel_for(1, [&](Index, Index, int) { seen[0] = FlushDenormals::read(); });
  EXPECT_EQ(seen[0] & FlushDenormals::kBits, FlushDenormals::kBits);
  EXPECT_EQ(FlushDenormals::read(), before);
}

// What each thread of a team found in its register before the kernels ran.
constexpr std::uint64_t kUnseen = ~std::uint64_t(0);
thread_local std::uint64_t t_before = kUnseen;

TEST_F(Denormals, WorkerThreadsGetTheirRegisterBack) {
  std::mt19937_64 rng(13);
  const auto calls = every_kernel(rng);
  set_num_threads(2);
  // OpenMP keeps its worker threads between regions: give the worker a state of its own (round
  // upward, no flags), run the kernels on teams of the same size, then look again. Thread 0 is
  // this thread, which runs the test's own arithmetic in between: the test above checks it.
  int workers = 0;
#pragma omp parallel num_threads(2) reduction(+ : workers)
  {
    if (omp_get_thread_num() != 0) {
      std::fesetround(FE_UPWARD);
      std::feclearexcept(FE_ALL_EXCEPT);
      t_before = FlushDenormals::read();
      workers += 1;
    }
  }
  ASSERT_EQ(workers, 1);
  testing::for_each_isa([&] {
    for (const auto& call : calls) call();
  });
  int unseen = 0, changed = 0;
#pragma omp parallel num_threads(2) reduction(+ : unseen, changed)
  {
    if (omp_get_thread_num() != 0) {
      if (t_before == kUnseen)
        unseen += 1;
      else if (FlushDenormals::read() != t_before)
        changed += 1;
      std::fesetround(FE_TONEAREST);
      t_before = kUnseen;
    }
  }
  EXPECT_EQ(unseen, 0) << "the second region ran on a new thread: nothing to compare";
  EXPECT_EQ(changed, 0);
}

}  // namespace
}  // namespace cnnkit
