// The per-thread workspace arena: alignment and stack reuse of Buffers, growth and coalescing,
// and no allocation at all when a kernel runs again with the same shapes.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "cnnkit/conv2d.hpp"
#include "cnnkit/filter2d.hpp"
#include "cnnkit/gemm.hpp"
#include "cnnkit/pool2d.hpp"
#include "cnnkit/workspace.hpp"
#include "testing.hpp"

// Every operator new of this program counts, so the tests see allocations that bypass the arena
// too. All the unaligned forms are replaced together: AddressSanitizer checks that memory is
// released by the family that allocated it.
namespace {
std::atomic<long> g_operator_news{0};

void* counted_malloc(std::size_t bytes) noexcept {
  g_operator_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(bytes > 0 ? bytes : 1);
}
void* counted_or_throw(std::size_t bytes) {
  if (void* p = counted_malloc(bytes)) return p;
  throw std::bad_alloc();
}
}  // namespace

// GCC takes the free in these replacements for a mismatch with the new it inlines them next to.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t bytes) { return counted_or_throw(bytes); }
void* operator new[](std::size_t bytes) { return counted_or_throw(bytes); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  return counted_malloc(bytes);
}
void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept {
  return counted_malloc(bytes);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace cnnkit {
namespace {

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// Runs body on a new thread, whose arena starts empty.
void on_fresh_thread(const std::function<void()>& body) { std::thread(body).join(); }

TEST(Workspace, BuffersAreAlignedAndDisjoint) {
  on_fresh_thread([] {
    Buffer<float> a(1), b(17);
    Buffer<double> c(1000);
    Buffer<char> d(3), e(0);
    Buffer<float> f(64);
    for (const void* p : {(void*)a.data(), (void*)b.data(), (void*)c.data(), (void*)d.data(),
                          (void*)e.data(), (void*)f.data()})
      EXPECT_TRUE(aligned64(p)) << p;
    // Each live Buffer lies wholly below the next one pushed.
    EXPECT_LE((void*)(a.data() + 1), (void*)b.data());
    EXPECT_LE((void*)(b.data() + 17), (void*)c.data());
    EXPECT_LE((void*)(c.data() + 1000), (void*)d.data());
    EXPECT_LE((void*)(d.data() + 3), (void*)f.data());
    for (Index i = 0; i < 1000; ++i) c.data()[i] = double(i);  // every element is usable
    for (Index i = 0; i < 64; ++i) f.data()[i] = float(i);
    EXPECT_EQ(c.data()[999], 999.0);
  });
}

TEST(Workspace, ReleasedMemoryIsReusedInStackOrder) {
  on_fresh_thread([] {
    float* first;
    float* second;
    {
      Buffer<float> a(100);
      first = a.data();
      Buffer<float> b(100);
      second = b.data();
    }
    Buffer<float> c(100);
    EXPECT_EQ(c.data(), first);
    Buffer<float> d(50);
    EXPECT_EQ(d.data(), second);
  });
}

TEST(Workspace, GrowsThenNeedsOneChunkForTheSameStack) {
  on_fresh_thread([] {
    // Deeper than any first chunk: 8 nested Buffers of 1 MiB each.
    const std::function<void(int)> nest = [&](int depth) {
      if (depth == 0) return;
      Buffer<char> b(1 << 20);
      b.data()[(1 << 20) - 1] = 1;
      nest(depth - 1);
    };
    const Index before = workspace_allocations();
    nest(8);
    EXPECT_GE(workspace_allocations() - before, 2);  // grew, then one chunk for the whole stack
    const Index grown = workspace_allocations();
    for (int repeat = 0; repeat < 3; ++repeat) nest(8);
    nest(5);
    EXPECT_EQ(workspace_allocations(), grown);
    nest(9);  // deeper than before: grows again, then fits again
    const Index deeper = workspace_allocations();
    EXPECT_GT(deeper, grown);
    nest(9);
    EXPECT_EQ(workspace_allocations(), deeper);
  });
}

TEST(Workspace, ABufferRepeatedPastTheEndOfAChunkAllocatesOnce) {
  on_fresh_thread([] {
    Buffer<char> base(1);  // the arena's first chunk exists from here
    const Index before = workspace_allocations();
    Buffer<char> fill(64 << 10);  // as large as a first chunk: what follows overflows it
    for (int i = 0; i < 100; ++i) {
      Buffer<char> b(1 << 20);
      b.data()[0] = char(i);
    }
    EXPECT_LE(workspace_allocations() - before, 2);
  });
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// Under AddressSanitizer the arena keeps what no Buffer holds poisoned: a write just past a
// Buffer, or a read after it is released, is reported as it would be for heap memory.
TEST(WorkspaceDeathTest, OverrunAndUseAfterReleaseAreReported) {
  if (!kAddressSanitizer) GTEST_SKIP() << "needs AddressSanitizer (CNNKIT_SANITIZE=ON)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // OpenMP threads may exist: re-execute
  EXPECT_DEATH(
      {
        Buffer<float> b(10);
        volatile float* p = b.data();
        p[10] = 1.f;
      },
      "use-after-poison");
  EXPECT_DEATH(
      {
        volatile float* p;
        {
          Buffer<float> b(16);
          p = b.data();
        }
        (void)p[0];
      },
      "use-after-poison");
  Buffer<float> b(10);  // the faults happened in child processes: this one's arena is intact
  volatile float* p = b.data();
  p[9] = 1.f;
}

// Restores the thread count and instruction set a test changes.
class SteadyState : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(saved_); }
  int saved_ = get_num_threads();
};

// One kernel call on fixed inputs, writing `outputs` floats to out.
struct Call {
  std::string name;
  Index outputs;
  std::function<void(float* out)> run;
};

std::vector<Call> every_kernel() {
  std::mt19937_64 rng(21);
  auto random = [&](Index n) { return testing::random_vector<float>(n, rng); };
  std::vector<Call> calls;
  // Few channels, many (with stride and dilation), and a 3x3 stride-1 layer wide enough for
  // Winograd where it applies.
  for (const Conv2dGeometry& g :
       {make_conv2d_geometry("test", 3, 12, 11, 3, 8, 3, 3, 1, 1, 1, 1, Padding::kSame),
        make_conv2d_geometry("test", 2, 13, 10, 20, 17, 3, 2, 2, 1, 1, 2, Padding::kSame),
        make_conv2d_geometry("test", 2, 12, 12, 32, 32, 3, 3, 1, 1, 1, 1, Padding::kSame)}) {
    const Index nx = g.N * g.H * g.W * g.C, nw = g.KH * g.KW * g.C * g.OC;
    const Index ny = g.N * g.OH * g.OW * g.OC;
    const auto x = random(nx), w = random(nw), b = random(g.OC), dy = random(ny);
    const std::string c = " C=" + std::to_string(g.C);
    calls.push_back({"conv2d_forward" + c, ny, [=](float* y) {
                       conv2d_forward<float>(g, x.data(), w.data(), b.data(), true, y);
                     }});
    calls.push_back({"conv2d_backward_input" + c, nx, [=](float* dx) {
                       conv2d_backward_input<float>(g, dy.data(), w.data(), dx);
                     }});
    calls.push_back({"conv2d_backward_kernel" + c, nw + g.OC, [=](float* dw) {
                       conv2d_backward_kernel<float>(g, x.data(), dy.data(), dw, dw + nw);
                     }});
  }
  const Conv2dGeometry p = make_pool2d_geometry("test", 2, 9, 9, 19, 3, 3, 2, 2, Padding::kSame);
  const Index px = p.N * p.H * p.W * p.C, py = p.N * p.OH * p.OW * p.C;
  const auto x = random(px), dy = random(py);
  calls.push_back({"max_pool2d", py + px, [=](float* out) {
                     max_pool2d_forward<float>(p, x.data(), out);
                     max_pool2d_backward<float>(p, x.data(), dy.data(), out + py);
                   }});
  calls.push_back({"avg_pool2d", py + px, [=](float* out) {
                     avg_pool2d_forward<float>(p, x.data(), out);
                     avg_pool2d_backward<float>(p, dy.data(), out + py);
                   }});
  const Index M = 40, N = 19, K = 300;  // K deeper than one GEMM slice
  const auto a = random(M * K), bm = random(K * N), bias = random(N);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      calls.push_back({"gemm ta=" + std::to_string(ta) + " tb=" + std::to_string(tb), M * N,
                       [=](float* c) {
                         gemm<float>(ta, tb, M, N, K, a.data(), bm.data(), bias.data(), false, c);
                       }});
  // Serial (small) and parallel, with edge columns copied into the per-thread band.
  for (Index side : {20, 150}) {
    const Filter2dGeometry f =
        make_filter2d_geometry(2, side, side, 5, 4, side, side, 2, 1, Boundary::kSymm);
    const auto image = random(2 * side * side), kernel = random(20);
    calls.push_back({"filter2d " + std::to_string(side), 2 * side * side, [=](float* y) {
                       filter2d<float>(f, image.data(), kernel.data(), 0.f, y);
                     }});
  }
  return calls;
}

TEST_F(SteadyState, SecondCallAllocatesNothing) {
  const std::vector<Call> calls = every_kernel();
  testing::for_each_isa([&] {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const Call& call : calls) {
        SCOPED_TRACE(call.name + ", threads " + std::to_string(threads));
        std::vector<float> first(call.outputs), second(call.outputs);
        call.run(first.data());
        const Index chunks = workspace_allocations();
        const long news = g_operator_news.load();
        call.run(second.data());
        EXPECT_EQ(workspace_allocations(), chunks);
        EXPECT_EQ(g_operator_news.load(), news);
        EXPECT_EQ(second, first);
      }
    }
  });
}

}  // namespace
}  // namespace cnnkit
