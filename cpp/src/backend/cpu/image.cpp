// CPU kernels of the image augmentation layers (see image.h). The affine resampling maps every
// output pixel to an input point through its sample's 2x3 matrix and reads it with bilinear or
// nearest interpolation; each tap outside the image is mapped by the fill mode (reflect, wrap,
// nearest) or reads fill_value (constant), which equals Keras's affine_transform (TF's
// ImageProjectiveTransform and scipy's map_coordinates on a padded image agree there). The
// backward pass is the exact adjoint: dy scattered through the same taps and weights, one sample
// per thread in a fixed order (deterministic).
#include "backend/cpu/image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/parallel.h"

namespace ff::cpu {
namespace {

// Index i along an axis of length len after the fill mode; -1 reads fill_value (constant).
inline int64_t map_index(int64_t i, int64_t len, FillMode mode) {
  if (i >= 0 && i < len) return i;
  switch (mode) {
    case FillMode::Constant:
      return -1;
    case FillMode::Nearest:
      return i < 0 ? 0 : len - 1;
    case FillMode::Wrap: {
      int64_t m = i % len;
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
inline int64_t to_index(float v) {
  constexpr float kFar = 1e9f;
  if (!(v > -kFar)) return static_cast<int64_t>(-kFar);  // also NaN
  if (v > kFar) return static_cast<int64_t>(kFar);
  return static_cast<int64_t>(v);
}

// The (at most 4) taps of output pixel (row, col) of one sample: pixel offsets (row * w + col in
// the input, -1 for fill_value) and weights.
struct Taps {
  int count = 0;
  int64_t offset[4];
  float weight[4];
};

inline Taps taps_for(const float* m, int64_t row, int64_t col, int64_t h, int64_t w,
                     Interpolation interpolation, FillMode mode) {
  const float fc = static_cast<float>(col), fr = static_cast<float>(row);
  const float xin = m[0] * fc + m[1] * fr + m[2];
  const float yin = m[3] * fc + m[4] * fr + m[5];
  Taps t;
  auto add = [&](int64_t yi, int64_t xi, float wgt) {
    if (wgt == 0.0f) return;
    const int64_t ym = map_index(yi, h, mode), xm = map_index(xi, w, mode);
    t.offset[t.count] = (ym < 0 || xm < 0) ? -1 : ym * w + xm;
    t.weight[t.count] = wgt;
    ++t.count;
  };
  if (interpolation == Interpolation::Nearest) {
    // Half-way points round away from zero (std::round), as TF's kernel does.
    add(to_index(std::round(yin)), to_index(std::round(xin)), 1.0f);
    return t;
  }
  const float x0f = std::floor(xin), y0f = std::floor(yin);
  const float fx = xin - x0f, fy = yin - y0f;
  const int64_t x0 = to_index(x0f), y0 = to_index(y0f);
  add(y0, x0, (1.0f - fy) * (1.0f - fx));
  add(y0, x0 + 1, (1.0f - fy) * fx);
  add(y0 + 1, x0, fy * (1.0f - fx));
  add(y0 + 1, x0 + 1, fy * fx);
  return t;
}

}  // namespace

void affine_transform_images(const float* x, float* y, int64_t n, int64_t h, int64_t w,
                             int64_t c, const float* transforms, Interpolation interpolation,
                             FillMode fill_mode, float fill_value) {
  // Every output row of every sample is independent: split (sample, row) pairs over threads.
  parallel_for(n * h, [&](int64_t b, int64_t e) {
    for (int64_t sr = b; sr < e; ++sr) {
      const int64_t s = sr / h, row = sr % h;
      const float* m = transforms + 6 * s;
      const float* xs = x + s * h * w * c;
      float* yr = y + (s * h + row) * w * c;
      for (int64_t col = 0; col < w; ++col) {
        const Taps t = taps_for(m, row, col, h, w, interpolation, fill_mode);
        float* out = yr + col * c;
        std::fill(out, out + c, 0.0f);
        for (int k = 0; k < t.count; ++k) {
          const float wgt = t.weight[k];
          if (t.offset[k] < 0) {
            for (int64_t ch = 0; ch < c; ++ch) out[ch] += wgt * fill_value;
          } else {
            const float* in = xs + t.offset[k] * c;
            for (int64_t ch = 0; ch < c; ++ch) out[ch] += wgt * in[ch];
          }
        }
      }
    }
  }, n * h * w * c, 1);
}

void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h,
                                      int64_t w, int64_t c, const float* transforms,
                                      Interpolation interpolation, FillMode fill_mode) {
  // Taps of one output pixel may land anywhere in its sample: one sample per thread, pixels in
  // order, so the sums are the same for any thread count.
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s) {
      const float* m = transforms + 6 * s;
      float* dxs = dx + s * h * w * c;
      const float* dys = dy + s * h * w * c;
      std::fill(dxs, dxs + h * w * c, 0.0f);
      for (int64_t row = 0; row < h; ++row)
        for (int64_t col = 0; col < w; ++col) {
          const Taps t = taps_for(m, row, col, h, w, interpolation, fill_mode);
          const float* g = dys + (row * w + col) * c;
          for (int k = 0; k < t.count; ++k) {
            if (t.offset[k] < 0) continue;  // fill_value is a constant: no gradient
            float* d = dxs + t.offset[k] * c;
            const float wgt = t.weight[k];
            for (int64_t ch = 0; ch < c; ++ch) d[ch] += wgt * g[ch];
          }
        }
    }
  }, n * h * w * c, 1);
}

void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                 const float* flips) {
  parallel_for(n * h, [&](int64_t b, int64_t e) {
    for (int64_t sr = b; sr < e; ++sr) {
      const int64_t s = sr / h, row = sr % h;
      const bool horizontal = flips[2 * s] != 0.0f, vertical = flips[2 * s + 1] != 0.0f;
      const float* src = x + (s * h + (vertical ? h - 1 - row : row)) * w * c;
      float* dst = y + (s * h + row) * w * c;
      if (!horizontal) {
        std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(w * c));
        continue;
      }
      for (int64_t col = 0; col < w; ++col)
        std::memcpy(dst + col * c, src + (w - 1 - col) * c, sizeof(float) * static_cast<size_t>(c));
    }
  }, n * h * w * c, 1);
}

}  // namespace ff::cpu
