// Shared helpers for the kernel tests: random data, shape tables and tolerant comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cnnkit/dispatch.hpp"
#include "cnnkit/geometry.hpp"
#include "cnnkit/parallel.hpp"
#include "cnnkit/winograd.hpp"

namespace cnnkit::testing {

template <typename T>
std::vector<T> random_vector(Index count, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> v(static_cast<size_t>(count));
  for (T& e : v) e = T(normal(rng));
  return v;
}

// Relative tolerance per dtype: float32 kernels reorder sums of up to a few thousand terms.
template <typename T>
constexpr double tolerance() {
  return sizeof(T) == 4 ? 2e-5 : 1e-12;
}

// Equal bit patterns (tells -0 from +0 and matches NaNs), for kernels that must be exact.
template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0);
}

// Every element within tolerance * (1 + max |expected|); reports the first mismatch.
template <typename T>
::testing::AssertionResult all_close(const std::vector<T>& actual, const std::vector<T>& expected,
                                     double scale_factor = 1.0) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "sizes differ: " << actual.size() << " vs "
                                         << expected.size();
  double scale = 1.0;
  for (T e : expected) scale = std::max(scale, std::fabs(double(e)));
  const double limit = tolerance<T>() * scale * scale_factor;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double diff = std::fabs(double(actual[i]) - double(expected[i]));
    if (!(diff <= limit))
      return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " vs "
                                           << expected[i] << " (limit " << limit << ")";
  }
  return ::testing::AssertionSuccess();
}

// One convolution problem: sizes plus options, printable for failure messages.
struct ConvCase {
  Index N, H, W, C, OC, KH, KW, SH, SW, DH, DW;
  Padding padding;

  Conv2dGeometry geometry() const {
    return make_conv2d_geometry("test", N, H, W, C, OC, KH, KW, SH, SW, DH, DW, padding);
  }
  std::string str() const {
    return "N=" + std::to_string(N) + " H=" + std::to_string(H) + " W=" + std::to_string(W) +
           " C=" + std::to_string(C) + " OC=" + std::to_string(OC) + " K=" +
           std::to_string(KH) + "x" + std::to_string(KW) + " S=" + std::to_string(SH) + "x" +
           std::to_string(SW) + " D=" + std::to_string(DH) + "x" + std::to_string(DW) +
           (padding == Padding::kSame ? " same" : " valid");
  }
};

// Sizes at, one below and one above the tile sizes (6 pixels; channel blocks of 4 to 32 lanes),
// primes and 1.
inline const std::vector<Index>& edge_sizes() {
  static const std::vector<Index> sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 31, 32, 33};
  return sizes;
}

// Hand-picked cases for the situations the tiling must get right, then random ones.
inline std::vector<ConvCase> conv_cases(int random_count, unsigned seed) {
  std::vector<ConvCase> cases = {
      {1, 5, 5, 1, 1, 3, 3, 1, 1, 1, 1, Padding::kSame},     // the neighbourhood-count example
      {1, 7, 5, 3, 4, 7, 5, 1, 1, 1, 1, Padding::kValid},    // kernel == input
      {2, 6, 4, 2, 3, 6, 4, 1, 1, 1, 1, Padding::kSame},     // kernel == input, padded
      {3, 9, 7, 5, 17, 1, 1, 1, 1, 1, 1, Padding::kValid},   // 1x1
      {1, 11, 13, 3, 5, 2, 2, 3, 4, 1, 1, Padding::kValid},  // strides larger than the kernel
      {5, 10, 9, 4, 6, 3, 2, 1, 1, 2, 2, Padding::kSame},    // dilation 2, odd padding
      {1, 12, 12, 16, 16, 3, 3, 2, 2, 2, 2, Padding::kSame}, // stride and dilation together
      {2, 13, 8, 33, 31, 3, 3, 1, 1, 1, 1, Padding::kValid}, // around a block size
      {1, 4, 14, 8, 32, 2, 4, 2, 3, 1, 1, Padding::kSame},   // non-square everything
      {2, 15, 17, 3, 40, 7, 7, 2, 2, 1, 1, Padding::kSame},  // a 7x7/2 first layer's borders
      {0, 5, 5, 2, 3, 3, 3, 1, 1, 1, 1, Padding::kValid},    // empty batch
  };
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<Index>& from) { return from[rng() % from.size()]; };
  const std::vector<Index> small = {1, 2, 3, 4, 5};
  while (int(cases.size()) < random_count) {
    ConvCase c{};
    c.N = pick({1, 1, 2, 3});
    c.H = pick(edge_sizes()) % 14 + 1;
    c.W = pick(edge_sizes()) % 14 + 1;
    c.C = pick(edge_sizes());
    c.OC = pick(edge_sizes());
    c.KH = pick(small);
    c.KW = pick(small);
    c.SH = pick({1, 1, 2, 3, 5});
    c.SW = pick({1, 1, 2, 3, 5});
    c.DH = pick({1, 1, 1, 2});
    c.DW = pick({1, 1, 1, 2});
    c.padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    if (c.padding == Padding::kValid && (c.DH * (c.KH - 1) + 1 > c.H || c.DW * (c.KW - 1) + 1 > c.W))
      c.padding = Padding::kSame;
    cases.push_back(c);
  }
  return cases;
}

// Fixture for tests of the direct convolution kernels: the plain conv2d functions may not switch
// to Winograd (tested on its own) while they run.
class DirectConvolution : public ::testing::Test {
 protected:
  void SetUp() override { set_winograd_enabled(false); }
  void TearDown() override { set_winograd_enabled(true); }
};

// Sets the kernels' thread count for a scope, restoring the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// Runs body once per instruction set this CPU supports, restoring the best one afterwards.
template <typename Body>
void for_each_isa(Body&& body) {
  const std::vector<std::string> isas = available_isas();
  for (const std::string& isa : isas) {
    SCOPED_TRACE("isa " + isa);
    set_isa(isa);
    body();
  }
  set_isa(isas.back());
}

}  // namespace cnnkit::testing
