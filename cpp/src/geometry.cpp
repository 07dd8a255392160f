#include "cnnkit/geometry.hpp"

namespace cnnkit {
namespace {

// Largest size accepted on any axis: keeps every product of a few sizes far from overflow.
constexpr Index kMaxDim = Index{1} << 31;

Index checked_mul(const char* op, Index a, Index b) {
  Index r;
  CNNKIT_CHECK(!__builtin_mul_overflow(a, b, &r) && r < (Index{1} << 62),
               op << ": array size " << a << " x " << b << " is too large");
  return r;
}

void check_dim(const char* op, const char* what, Index value, Index minimum) {
  CNNKIT_CHECK(value >= minimum && value <= kMaxDim,
               op << ": " << what << " must be between " << minimum << " and " << kMaxDim
                  << ", got " << value);
}

// Output size and leading padding along one axis.
void axis_geometry(const char* op, const char* axis, Index in, Index k, Index s, Index d,
                   Padding padding, Index* out, Index* pad_before, Index* pad_after) {
  const Index span = d * (k - 1) + 1;  // effective (dilated) kernel extent
  if (padding == Padding::kValid) {
    CNNKIT_CHECK(span <= in, op << ": kernel " << axis << " " << k << " (dilation " << d
                                << ", effective " << span << ") is larger than the input "
                                << axis << " " << in << " with padding='valid'");
    *out = (in - span) / s + 1;
    *pad_before = *pad_after = 0;
  } else {
    *out = (in + s - 1) / s;
    const Index total = (*out - 1) * s + span - in;
    *pad_before = total > 0 ? total / 2 : 0;
    *pad_after = total > 0 ? total - total / 2 : 0;
  }
}

}  // namespace

Padding parse_padding(const std::string& padding) {
  if (padding == "valid") return Padding::kValid;
  if (padding == "same") return Padding::kSame;
  CNNKIT_CHECK(false, "padding must be 'valid' or 'same', got '" << padding << "'");
}

Conv2dGeometry make_conv2d_geometry(const char* op, Index N, Index H, Index W, Index C, Index OC,
                                    Index KH, Index KW, Index SH, Index SW, Index DH, Index DW,
                                    Padding padding) {
  check_dim(op, "batch size", N, 0);
  check_dim(op, "input height", H, 1);
  check_dim(op, "input width", W, 1);
  check_dim(op, "input channels", C, 1);
  check_dim(op, "output channels", OC, 1);
  check_dim(op, "kernel height", KH, 1);
  check_dim(op, "kernel width", KW, 1);
  check_dim(op, "stride height", SH, 1);
  check_dim(op, "stride width", SW, 1);
  check_dim(op, "dilation height", DH, 1);
  check_dim(op, "dilation width", DW, 1);
  // The dilated kernel extent and every tensor's element count must fit comfortably.
  checked_mul(op, DH, KH);
  checked_mul(op, DW, KW);
  Conv2dGeometry g{N, H, W, C, 0, 0, OC, KH, KW, SH, SW, DH, DW, 0, 0, 0, 0};
  axis_geometry(op, "height", H, KH, SH, DH, padding, &g.OH, &g.pad_top, &g.pad_bottom);
  axis_geometry(op, "width", W, KW, SW, DW, padding, &g.OW, &g.pad_left, &g.pad_right);
  checked_mul(op, checked_mul(op, checked_mul(op, N, H), W), C);
  checked_mul(op, checked_mul(op, checked_mul(op, N, g.OH), g.OW), OC);
  checked_mul(op, checked_mul(op, checked_mul(op, KH, KW), C), OC);
  return g;
}

bool is_pointwise(const Conv2dGeometry& g) {
  return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.pad_top == 0 && g.pad_left == 0 &&
         g.pad_bottom == 0 && g.pad_right == 0;
}

Conv2dGeometry make_pool2d_geometry(const char* op, Index N, Index H, Index W, Index C, Index KH,
                                    Index KW, Index SH, Index SW, Padding padding) {
  return make_conv2d_geometry(op, N, H, W, C, C, KH, KW, SH, SW, 1, 1, padding);
}

}  // namespace cnnkit
