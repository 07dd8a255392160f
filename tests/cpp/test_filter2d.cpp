// 2-D filtering: the vectorised kernels of every ISA against the direct-loop reference, the
// boundary rules against hand-written extended planes, thread-count independence and errors.
#include <string>
#include <vector>

#include "cnnkit/filter2d.hpp"
#include "testing.hpp"

namespace cnnkit::testing {
namespace {

struct FilterCase {
  Index P, H, W, KH, KW, OH, OW, pad_top, pad_left;

  Filter2dGeometry geometry(Boundary boundary) const {
    return make_filter2d_geometry(P, H, W, KH, KW, OH, OW, pad_top, pad_left, boundary);
  }
  std::string str() const {
    return "P=" + std::to_string(P) + " image " + std::to_string(H) + "x" + std::to_string(W) +
           " kernel " + std::to_string(KH) + "x" + std::to_string(KW) + " out " +
           std::to_string(OH) + "x" + std::to_string(OW) + " pads " + std::to_string(pad_top) +
           "," + std::to_string(pad_left);
  }
};

// The three output alignments the Python callers use: scipy's 'full', 'same' (pad (K-1)/2 for
// correlation, K/2 for convolution) and 'valid' (when the kernel fits).
void add_modes(Index P, Index H, Index W, Index KH, Index KW, std::vector<FilterCase>* cases) {
  cases->push_back({P, H, W, KH, KW, H + KH - 1, W + KW - 1, KH - 1, KW - 1});
  cases->push_back({P, H, W, KH, KW, H, W, (KH - 1) / 2, (KW - 1) / 2});
  cases->push_back({P, H, W, KH, KW, H, W, KH / 2, KW / 2});
  if (KH <= H && KW <= W) cases->push_back({P, H, W, KH, KW, H - KH + 1, W - KW + 1, 0, 0});
}

std::vector<FilterCase> filter_cases(int random_count, unsigned seed) {
  std::vector<FilterCase> cases;
  // Unrolled kernel sizes on widths around the vector blocks (4 to 16 lanes, 4 vectors a block).
  for (Index k : {3, 5, 7})
    for (Index w : {1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100})
      add_modes(1, 5 + w % 4, w, k, k, &cases);
  // Run-time sizes: 1x1, non-square, even, and kernels larger than the image.
  for (auto [kh, kw] : std::vector<std::pair<Index, Index>>{
           {1, 1}, {2, 2}, {1, 4}, {4, 1}, {2, 5}, {6, 3}, {9, 9}, {11, 4}})
    for (auto [h, w] : std::vector<std::pair<Index, Index>>{{1, 1}, {3, 2}, {8, 13}, {17, 40}})
      add_modes(2, h, w, kh, kw, &cases);
  // A row longer than one work chunk (2048 columns), as a 1-D signal is filtered, and planes
  // split into several bands (32 rows) and chunks at once.
  add_modes(1, 1, 5000, 1, 9, &cases);
  add_modes(2, 40, 2060, 2, 3, &cases);
  // Planes of several bands, with tails of a few columns past the last full vector block.
  for (Index k : {2, 3, 5, 7}) add_modes(1, 100, 70, k, k, &cases);
  // Pads beyond one kernel: wrap and symm must repeat their pattern several times.
  cases.push_back({1, 3, 2, 4, 5, 12, 11, 7, 9});
  cases.push_back({1, 1, 1, 3, 3, 6, 6, 4, 4});

  std::mt19937_64 rng(seed);
  auto pick = [&](Index lo, Index hi) { return std::uniform_int_distribution<Index>(lo, hi)(rng); };
  for (int i = 0; i < random_count; ++i) {
    const Index h = pick(1, 40), w = pick(1, 90), kh = pick(1, 9), kw = pick(1, 9);
    add_modes(pick(1, 3), h, w, kh, kw, &cases);
  }
  return cases;
}

template <typename T>
void expect_kernels_match_reference() {
  std::mt19937_64 rng(7);
  const std::string initial_isa = active_isa();
  for (const FilterCase& c : filter_cases(40, 11))
    for (Boundary boundary : {Boundary::kFill, Boundary::kWrap, Boundary::kSymm}) {
      const Filter2dGeometry g = c.geometry(boundary);
      const std::vector<T> x = random_vector<T>(g.P * g.H * g.W, rng);
      const std::vector<T> w = random_vector<T>(g.KH * g.KW, rng);
      const T fill = T(0.75);
      std::vector<T> y(g.P * g.OH * g.OW), expected(y.size());
      filter2d_ref<T>(g, x.data(), w.data(), fill, expected.data());
      for (const std::string& isa : available_isas()) {
        set_isa(isa);
        filter2d<T>(g, x.data(), w.data(), fill, y.data());
        // Each output sums KH*KW products of unit-variance numbers.
        EXPECT_TRUE(all_close(y, expected, double(g.KH * g.KW)))
            << isa << " " << c.str() << " boundary " << int(boundary);
      }
    }
  set_isa(initial_isa);
}

TEST(Filter2d, MatchesReferenceFloat) { expect_kernels_match_reference<float>(); }
TEST(Filter2d, MatchesReferenceDouble) { expect_kernels_match_reference<double>(); }

// A 1x1 identity kernel with pads of one shows the extended plane itself.
std::vector<double> extended_plane(Boundary boundary, double fill) {
  const std::vector<double> x = {1, 2, 3, 4};  // [[1, 2], [3, 4]]
  const std::vector<double> w = {1};
  const Filter2dGeometry g = make_filter2d_geometry(1, 2, 2, 1, 1, 4, 4, 1, 1, boundary);
  std::vector<double> y(16), ref(16);
  filter2d<double>(g, x.data(), w.data(), fill, y.data());
  filter2d_ref<double>(g, x.data(), w.data(), fill, ref.data());
  EXPECT_EQ(y, ref);
  return y;
}

TEST(Filter2d, BoundaryRulesByHand) {
  EXPECT_EQ(extended_plane(Boundary::kFill, -1),
            (std::vector<double>{-1, -1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1, -1, -1, -1}));
  EXPECT_EQ(extended_plane(Boundary::kWrap, 0),
            (std::vector<double>{4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1}));
  EXPECT_EQ(extended_plane(Boundary::kSymm, 0),
            (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Filter2d, HandComputedCorrelation) {
  // [[1, 2, 3], [4, 5, 6]] correlated with [[1, 0], [0, -1]], 'valid': x[i][j] - x[i+1][j+1].
  const std::vector<float> x = {1, 2, 3, 4, 5, 6}, w = {1, 0, 0, -1};
  const Filter2dGeometry g = make_filter2d_geometry(1, 2, 3, 2, 2, 1, 2, 0, 0, Boundary::kFill);
  std::vector<float> y(2);
  const std::string initial_isa = active_isa();
  for (const std::string& isa : available_isas()) {
    set_isa(isa);
    filter2d<float>(g, x.data(), w.data(), 0.f, y.data());
    EXPECT_EQ(y, (std::vector<float>{-4, -4})) << isa;
  }
  set_isa(initial_isa);
}

TEST(Filter2d, ThreadCountDoesNotChangeBits) {
  std::mt19937_64 rng(3);
  const Filter2dGeometry g = make_filter2d_geometry(2, 67, 300, 5, 5, 67, 300, 2, 2,
                                                    Boundary::kSymm);
  const std::vector<float> x = random_vector<float>(g.P * g.H * g.W, rng);
  const std::vector<float> w = random_vector<float>(25, rng);
  std::vector<float> one(g.P * g.OH * g.OW), many(one.size());
  const int threads = get_num_threads();
  set_num_threads(1);
  filter2d<float>(g, x.data(), w.data(), 0.f, one.data());
  set_num_threads(3);
  filter2d<float>(g, x.data(), w.data(), 0.f, many.data());
  set_num_threads(threads);
  EXPECT_EQ(one, many);
}

TEST(Filter2d, RejectsBadGeometry) {
  EXPECT_THROW(make_filter2d_geometry(1, 0, 4, 3, 3, 1, 1, 0, 0, Boundary::kFill),
               std::invalid_argument);
  EXPECT_THROW(make_filter2d_geometry(1, 4, 4, 0, 3, 1, 1, 0, 0, Boundary::kFill),
               std::invalid_argument);
  EXPECT_THROW(make_filter2d_geometry(1, 4, 4, 3, 3, 0, 1, 0, 0, Boundary::kFill),
               std::invalid_argument);
  EXPECT_THROW(make_filter2d_geometry(1, 4, 4, 3, 3, 2, 2, -1, 0, Boundary::kFill),
               std::invalid_argument);
  EXPECT_THROW(parse_boundary("reflect"), std::invalid_argument);
  EXPECT_EQ(parse_boundary("symm"), Boundary::kSymm);
}

}  // namespace
}  // namespace cnnkit::testing
