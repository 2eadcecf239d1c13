// Geometry of the sliding-window kernels of the backend (convolution, pooling, zero padding):
// plain structs, NHWC (channels-last) activations, resolved by the layers in build() and passed
// to the kernels as they are. Padding is given by its "before" amount only; the "after" amount is
// whatever the output size implies (padded positions are zeros for convolution, ignored by
// pooling).
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace ff {

// y (N, OH, OW, F) = cross-correlation of x (N, H, W, C) with kernel (KH, KW, C, F) (Keras's
// kernel layout), input row oh*stride_h - pad_top + kh*dilation_h, zeros outside the input.
struct Conv2DGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t KH = 1, KW = 1, F = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t OH = 0, OW = 0;
  // The layer's compute dtype. BFloat16: x and kernel hold bfloat16 values (the model rounded
  // them), so a backend may run bfloat16 kernels (float32 accumulation, float32 results).
  DType compute = DType::Float32;
};

// y (N, OH, OW, C) = reduction of each KH x KW window of x (N, H, W, C), window (oh, ow) starting
// at input row oh*stride_h - pad_top; only positions inside the input take part (padding is
// neither a value for max nor counted by average). Global pooling is the window KH=H, KW=W.
struct Pool2DGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t KH = 1, KW = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t OH = 0, OW = 0;
};

// y (N, H + top + bottom, W + left + right, C) = x surrounded by zeros.
struct Pad2DGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

}  // namespace ff
