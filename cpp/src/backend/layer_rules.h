// Geometry and per-element rules of the kernels of the ReLU and PReLU layers, of UpSampling2D
// (NHWC images resized by whole factors) and of the depthwise convolution: plain structs resolved by the layers in build() and
// passed to the kernels as they are, and the FF_HD rules that the CPU kernels
// (cpu/layer_kernels.cpp) and the CUDA kernels (cuda/cuda_layer_kernels.cu) share, so the two
// compute from one source. NaN in gives NaN out.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ff {

// ---- ReLU with Keras's options (max_value: +Inf for none) ----
// Keras's relu(x, negative_slope, max_value, threshold): min(x, max_value) where x > threshold,
// else negative_slope * (x - threshold); with negative_slope 0 that is 0 (also for x = -Inf), and
// NaN stays NaN.
FF_HD inline float relu_rule(float x, float max_value, float negative_slope, float threshold) {
  if (x > threshold) return x < max_value ? x : max_value;
  if (x != x) return x;
  return negative_slope == 0.0f ? 0.0f : negative_slope * (x - threshold);
}
// dy through it: dy where threshold < x < max_value, 0 where x >= max_value, negative_slope * dy
// where x <= threshold.
FF_HD inline float relu_grad_rule(float x, float max_value, float negative_slope, float threshold,
                                  float dy) {
  if (x > threshold) return x < max_value ? dy : 0.0f;
  return negative_slope * dy;
}

// ---- PReLU ----
constexpr int kPReluMaxAxes = 8;
// Members of one alpha value summed per chunk of its gradient (both backends: the same order).
constexpr int64_t kPReluChunk = 4096;

// x is `rows` samples of `sample` values; alpha (alpha_size values) is shared along some of the
// sample's axes. dims[0, rank) are the sample's axes (neighbouring axes alike in sharing may be
// merged), shared[j] when alpha is the same all along axis j; alpha_size is the product of the
// dims that are not shared.
struct PReluGeometry {
  int64_t rows = 0, sample = 0, alpha_size = 0;
  int32_t rank = 0;
  int64_t dims[kPReluMaxAxes] = {};
  bool shared[kPReluMaxAxes] = {};
};

// The alpha index of element i of x (flat, batch included).
FF_HD inline int64_t prelu_alpha_index(const PReluGeometry& g, int64_t i) {
  int64_t rem = i % g.sample, a = 0, stride = 1;
  for (int j = g.rank - 1; j >= 0; --j) {
    const int64_t c = rem % g.dims[j];
    rem /= g.dims[j];
    if (!g.shared[j]) {
      a += c * stride;
      stride *= g.dims[j];
    }
  }
  return a;
}

// The elements that alpha value a applies to, rows * sample / alpha_size of them ("members"):
// the flat index of member m. Members are numbered in increasing flat-index order.
FF_HD inline int64_t prelu_member_index(const PReluGeometry& g, int64_t m, int64_t a) {
  const int64_t per_row = g.sample / g.alpha_size;
  int64_t s_rem = m % per_row, a_rem = a, flat = 0, stride = 1;
  for (int j = g.rank - 1; j >= 0; --j) {
    int64_t c;
    if (g.shared[j]) {
      c = s_rem % g.dims[j];
      s_rem /= g.dims[j];
    } else {
      c = a_rem % g.dims[j];
      a_rem /= g.dims[j];
    }
    flat += c * stride;
    stride *= g.dims[j];
  }
  return (m / per_row) * g.sample + flat;
}

// y = x where x >= 0 (NaN stays NaN), alpha * x where x < 0 (Keras: relu(x) - alpha * relu(-x)).
FF_HD inline float prelu_rule(float x, float alpha) { return x < 0.0f ? alpha * x : x; }
// dy through PReLU: dy where x > 0, alpha * dy where x < 0, 0 at 0 (TensorFlow's relu gradient).
FF_HD inline float prelu_grad_rule(float x, float alpha, float dy) {
  return x > 0.0f ? dy : (x < 0.0f ? alpha * dy : 0.0f);
}

// ---- UpSampling2D ----
// y (N, H * size_h, W * size_w, C) from x (N, H, W, C): "nearest" repeats each pixel size_h x
// size_w times (Keras's ops.repeat); "bilinear" is TensorFlow's half-pixel bilinear resize
// (tf.image.resize, antialias off, which Keras's UpSampling2D calls), edges clamped.
struct Upsample2DGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t size_h = 1, size_w = 1;
  bool bilinear = false;
};

// The two input taps of output index o along an axis of `in` inputs upsampled by `factor`, and
// the weight of the upper one (TensorFlow's compute_interpolation_weights with the half-pixel
// scaler, in float).
struct ResizeTaps {
  int64_t lower = 0, upper = 0;
  float lerp = 0.0f;
};
FF_HD inline ResizeTaps upsample_taps(int64_t o, int64_t in, int64_t factor) {
  const float scale = static_cast<float>(in) / static_cast<float>(in * factor);
  const float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
  const float src_floor = std::floor(src);
  ResizeTaps t;
  t.lower = static_cast<int64_t>(src_floor) > 0 ? static_cast<int64_t>(src_floor) : 0;
  const int64_t up = static_cast<int64_t>(std::ceil(src));
  t.upper = up < in - 1 ? up : in - 1;
  t.lerp = src - src_floor;
  return t;
}

// The weight of input index i in output o's interpolation (0 when o does not read i).
FF_HD inline float upsample_weight(const ResizeTaps& t, int64_t i) {
  float w = 0.0f;
  if (t.lower == i) w += 1.0f - t.lerp;
  if (t.upper == i) w += t.lerp;
  return w;
}

// The outputs that may read input i: [first, last] (a superset; upsample_weight tells).
FF_HD inline void upsample_readers(int64_t i, int64_t in, int64_t factor, int64_t* first,
                                   int64_t* last) {
  const int64_t lo = (i - 1) * factor, hi = (i + 2) * factor;
  *first = lo > 0 ? lo : 0;
  *last = hi < in * factor - 1 ? hi : in * factor - 1;
}

// ---- depthwise convolution ----
// Output positions (n, oh, ow) summed per chunk of the kernel gradient (both backends).
constexpr int64_t kDepthwiseChunk = 4096;

}  // namespace ff
