// The resampling rule of affine_transform_images (RandomTranslation, RandomZoom, RandomRotation)
// that the CPU kernels (cpu/image.cpp) and the CUDA kernels (cuda/cuda_image.cu) share, as FF_HD
// functions: an output pixel's input point through its sample's 2x3 matrix, its (at most 4)
// taps with bilinear or nearest interpolation, and each tap outside the image mapped by the fill
// mode (reflect, wrap, nearest) or reading fill_value (constant). This equals Keras's
// affine_transform (TF's ImageProjectiveTransform and scipy's map_coordinates on a padded image
// agree there).
#pragma once
#include <cmath>
#include <cstdint>

#include "backend/backend.h"  // Interpolation, FillMode
#include "core/host_device.h"

namespace ff {

// Index i along an axis of length len after the fill mode; -1 reads fill_value (constant).
FF_HD inline int64_t image_map_index(int64_t i, int64_t len, FillMode mode) {
  if (i >= 0 && i < len) return i;
  switch (mode) {
    case FillMode::Constant:
      return -1;
    case FillMode::Nearest:
      return i < 0 ? 0 : len - 1;
    case FillMode::Wrap: {
      const int64_t m = i % len;
      return m < 0 ? m + len : m;
    }
    case FillMode::Reflect: {
      // (d c b a | a b c d | d c b a): reflection about the outer edge of the last pixel.
      if (len == 1) return 0;
      const int64_t period = 2 * len;
      int64_t m = i % period;
      if (m < 0) m += period;
      return m < len ? m : period - 1 - m;
    }
  }
  return -1;
}

// A coordinate as an integer tap index, clamped far outside the image (finite, no overflow).
FF_HD inline int64_t image_tap_index(float v) {
  constexpr float kFar = 1e9f;
  if (!(v > -kFar)) return static_cast<int64_t>(-kFar);  // also NaN
  if (v > kFar) return static_cast<int64_t>(kFar);
  return static_cast<int64_t>(v);
}

// The (at most 4) taps of one output pixel: pixel offsets (row * w + col in the input, -1 for
// fill_value) and weights, in a fixed order (top-left, top-right, bottom-left, bottom-right);
// taps of weight 0 are left out.
struct ImageTaps {
  int count = 0;
  int64_t offset[4];
  float weight[4];
};

FF_HD inline void image_add_tap(ImageTaps& t, int64_t yi, int64_t xi, float wgt, int64_t h,
                                int64_t w, FillMode mode) {
  if (wgt == 0.0f) return;
  const int64_t ym = image_map_index(yi, h, mode), xm = image_map_index(xi, w, mode);
  t.offset[t.count] = (ym < 0 || xm < 0) ? -1 : ym * w + xm;
  t.weight[t.count] = wgt;
  ++t.count;
}

// The taps of output pixel (row, col) of an h x w image under matrix m = [a0 a1 a2 b0 b1 b2]:
// it reads the input at (a0 col + a1 row + a2, b0 col + b1 row + b2).
FF_HD inline ImageTaps image_taps(const float* m, int64_t row, int64_t col, int64_t h, int64_t w,
                                  Interpolation interpolation, FillMode mode) {
  const float fc = static_cast<float>(col), fr = static_cast<float>(row);
  const float xin = m[0] * fc + m[1] * fr + m[2];
  const float yin = m[3] * fc + m[4] * fr + m[5];
  ImageTaps t;
  if (interpolation == Interpolation::Nearest) {
    // Half-way points round away from zero (std::round), as TF's kernel does.
    image_add_tap(t, image_tap_index(std::round(yin)), image_tap_index(std::round(xin)), 1.0f, h,
                  w, mode);
    return t;
  }
  const float x0f = std::floor(xin), y0f = std::floor(yin);
  const float fx = xin - x0f, fy = yin - y0f;
  const int64_t x0 = image_tap_index(x0f), y0 = image_tap_index(y0f);
  image_add_tap(t, y0, x0, (1.0f - fy) * (1.0f - fx), h, w, mode);
  image_add_tap(t, y0, x0 + 1, (1.0f - fy) * fx, h, w, mode);
  image_add_tap(t, y0 + 1, x0, fy * (1.0f - fx), h, w, mode);
  image_add_tap(t, y0 + 1, x0 + 1, fy * fx, h, w, mode);
  return t;
}

}  // namespace ff
