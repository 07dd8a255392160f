// The padding rule and the argument checks of make_conv2d_geometry / make_pool2d_geometry.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "cnnkit/geometry.hpp"

namespace cnnkit {
namespace {

Conv2dGeometry conv(Index H, Index W, Index K, Index S, Index D, Padding p) {
  return make_conv2d_geometry("conv2d", 1, H, W, 1, 1, K, K, S, S, D, D, p);
}

TEST(Geometry, ValidShrinksByTheDilatedKernel) {
  const Conv2dGeometry g = conv(28, 28, 3, 1, 1, Padding::kValid);
  EXPECT_EQ(g.OH, 26);
  EXPECT_EQ(g.OW, 26);
  EXPECT_EQ(conv(10, 10, 3, 2, 2, Padding::kValid).OH, 3);  // (10 - 5) / 2 + 1
  EXPECT_EQ(conv(7, 7, 7, 1, 1, Padding::kValid).OH, 1);
  EXPECT_EQ(g.pad_top + g.pad_bottom + g.pad_left + g.pad_right, 0);
}

TEST(Geometry, SameKeepsCeilOfInputOverStrideWithTheExtraPixelLast) {
  Conv2dGeometry g = conv(5, 5, 3, 1, 1, Padding::kSame);
  EXPECT_EQ(g.OH, 5);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv(6, 6, 2, 1, 1, Padding::kSame);  // total 1: none on top, one at the bottom
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv(7, 7, 3, 2, 1, Padding::kSame);  // out 4, total (4-1)*2 + 3 - 7 = 2
  EXPECT_EQ(g.OH, 4);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv(8, 8, 3, 2, 1, Padding::kSame);  // out 4, total 1
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_bottom, 1);
  g = conv(4, 4, 1, 3, 1, Padding::kSame);  // out 2, total (2-1)*3 + 1 - 4 = 0
  EXPECT_EQ(g.OH, 2);
  EXPECT_EQ(g.pad_top + g.pad_bottom, 0);
  g = conv(5, 5, 3, 1, 2, Padding::kSame);  // dilated span 5, total 4
  EXPECT_EQ(g.pad_top, 2);
  EXPECT_EQ(g.pad_bottom, 2);
}

// The message of the invalid_argument thrown by f.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Geometry, RejectsBadSizesWithClearMessages) {
  EXPECT_NE(error_of([] { conv(2, 2, 3, 1, 1, Padding::kValid); })
                .find("kernel height 3 (dilation 1, effective 3) is larger than the input height 2"),
            std::string::npos);
  EXPECT_NE(error_of([] { conv(5, 5, 3, 1, 3, Padding::kValid); }).find("effective 7"),
            std::string::npos);
  EXPECT_NE(error_of([] { conv(5, 5, 3, 0, 1, Padding::kSame); })
                .find("stride height must be between 1"),
            std::string::npos);
  EXPECT_NE(error_of([] { conv(0, 5, 1, 1, 1, Padding::kSame); }).find("input height"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_conv2d_geometry("conv2d", 1, 5, 5, 0, 1, 1, 1, 1, 1, 1, 1,
                                               Padding::kSame); })
                .find("input channels"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_padding("full"); }).find("padding must be 'valid' or 'same'"),
            std::string::npos);
}

TEST(Geometry, RejectsSizesWhoseIndexArithmeticWouldOverflow) {
  const Index big = Index{1} << 31;
  EXPECT_NE(error_of([&] {
              make_conv2d_geometry("conv2d", big, big, big, 1, 1, 1, 1, 1, 1, 1, 1, Padding::kSame);
            }).find("too large"),
            std::string::npos);
  EXPECT_NE(error_of([&] { conv(5, 5, 3, 1, big + 1, Padding::kSame); }).find("dilation height"),
            std::string::npos);
  EXPECT_NE(error_of([&] { conv(5, 5, big, 1, big, Padding::kSame); }).find("too large"),
            std::string::npos);
}

TEST(Geometry, PoolingIsUndilatedWithOutputChannelsEqualToInput) {
  const Conv2dGeometry g = make_pool2d_geometry("max_pool2d", 2, 7, 7, 3, 2, 2, 2, 2, Padding::kSame);
  EXPECT_EQ(g.OC, 3);
  EXPECT_EQ(g.DH, 1);
  EXPECT_EQ(g.OH, 4);
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_bottom, 1);
}

}  // namespace
}  // namespace cnnkit
