// The single padding and output-size rule shared by every convolution and pooling op.
//
//   'valid': OH = floor((H - DH*(KH-1) - 1) / SH) + 1, no padding.
//   'same' : OH = ceil(H / SH); total padding max((OH-1)*SH + DH*(KH-1) + 1 - H, 0),
//            the smaller half on top/left, the extra pixel bottom/right (TensorFlow's rule).
#pragma once

#include <string>

#include "cnnkit/common.hpp"

namespace cnnkit {

enum class Padding { kValid, kSame };

Padding parse_padding(const std::string& padding);  // "valid" | "same", else invalid_argument

// A plain struct (no member functions): kernels of every ISA read it without ODR hazards.
struct Conv2dGeometry {
  Index N, H, W, C;   // input
  Index OH, OW, OC;   // output (OC == C for pooling)
  Index KH, KW;       // kernel or pool window
  Index SH, SW;       // strides
  Index DH, DW;       // dilation (1 for pooling)
  Index pad_top, pad_left, pad_bottom, pad_right;
};

// Validates every size (positive, effective kernel fits a 'valid' input, element counts fit in
// Index) and throws std::invalid_argument naming `op` and the offending sizes.
Conv2dGeometry make_conv2d_geometry(const char* op, Index N, Index H, Index W, Index C, Index OC,
                                    Index KH, Index KW, Index SH, Index SW, Index DH, Index DW,
                                    Padding padding);

// A 1x1, stride-1, unpadded convolution: in NHWC the matrix product (N*H*W, C) . (C, OC).
bool is_pointwise(const Conv2dGeometry& g);

Conv2dGeometry make_pool2d_geometry(const char* op, Index N, Index H, Index W, Index C, Index KH,
                                    Index KW, Index SH, Index SW, Padding padding);

}  // namespace cnnkit
