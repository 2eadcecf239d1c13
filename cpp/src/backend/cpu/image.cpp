// CPU kernels of the image augmentation layers (see image.h). The affine resampling maps every
// output pixel to an input point through its sample's 2x3 matrix and reads it with bilinear or
// nearest interpolation; each tap outside the image is mapped by the fill mode (reflect, wrap,
// nearest) or reads fill_value (constant), which equals Keras's affine_transform (the rule is
// backend/image_taps.h, shared with the CUDA kernels). The
// backward pass is the exact adjoint: dy scattered through the same taps and weights, one sample
// per thread in a fixed order (deterministic).
#include "backend/cpu/image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/parallel.h"
#include "backend/image_taps.h"

namespace ff::cpu {
namespace {

// The taps of one output pixel (backend/image_taps.h: the rule the CUDA kernels share).
inline ImageTaps taps_for(const float* m, int64_t row, int64_t col, int64_t h, int64_t w,
                          Interpolation interpolation, FillMode mode) {
  return image_taps(m, row, col, h, w, interpolation, mode);
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
        const ImageTaps t = taps_for(m, row, col, h, w, interpolation, fill_mode);
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
          const ImageTaps t = taps_for(m, row, col, h, w, interpolation, fill_mode);
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
