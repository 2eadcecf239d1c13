// The random draws of the augmentation layers (RandomFlip, RandomTranslation, RandomZoom,
// RandomRotation) as data and one function each, so that every backend draws them in a kernel
// from the step-state block's random stream (never built on the host per step) and CPU and GPU
// draw the same numbers: Philox keyed by (layer seed, stream, sample index).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "core/rng.h"

namespace ff {

// RandomFlip: flags {horizontal, vertical} of one sample (Keras 3: flip when uniform <= 0.5,
// one draw deciding both in "horizontal_and_vertical").
struct FlipSpec {
  uint64_t seed = 0;
  int32_t horizontal = 0, vertical = 0;
};

FF_HD inline void flip_flags(const FlipSpec& s, uint64_t stream, int64_t sample, float* out) {
  const float u = Philox::to_unit(Philox::block(s.seed, stream, static_cast<uint64_t>(sample))[0]);
  const float flip = u <= 0.5f ? 1.0f : 0.0f;
  out[0] = s.horizontal ? flip : 0.0f;
  out[1] = s.vertical ? flip : 0.0f;
}

enum class AffineKind : int32_t { Translation, Zoom, Rotation };

// One random affine layer: a factor range per axis ([lower, upper]; Rotation uses `height` as
// its factor, Zoom without a width factor zooms both axes alike).
struct AffineSpec {
  AffineKind kind = AffineKind::Translation;
  uint64_t seed = 0;
  double height_lower = 0, height_upper = 0, width_lower = 0, width_upper = 0;
  int32_t has_width = 1;
};

// The 2x3 matrix [a0 a1 a2 b0 b1 b2] (output pixel -> input point, Keras's affine_transform)
// of `sample` for an h x w image, in float32 from double arithmetic.
FF_HD inline void affine_matrix(const AffineSpec& s, uint64_t stream, int64_t sample, int64_t h,
                                int64_t w, float* out) {
  const auto bits = Philox::block(s.seed, stream, static_cast<uint64_t>(sample));
  const double u0 = static_cast<double>(Philox::to_unit(bits[0]));
  const double u1 = static_cast<double>(Philox::to_unit(bits[1]));
  const double hh = static_cast<double>(h), ww = static_cast<double>(w);
  double m[6];
  if (s.kind == AffineKind::Translation) {
    const double dy = (s.height_lower + (s.height_upper - s.height_lower) * u0) * hh;
    const double dx = (s.width_lower + (s.width_upper - s.width_lower) * u1) * ww;
    m[0] = 1.0; m[1] = 0.0; m[2] = -dx; m[3] = 0.0; m[4] = 1.0; m[5] = -dy;
  } else if (s.kind == AffineKind::Zoom) {
    const double zy = 1.0 + (s.height_lower + (s.height_upper - s.height_lower) * u0);
    const double zx =
        s.has_width ? 1.0 + (s.width_lower + (s.width_upper - s.width_lower) * u1) : zy;
    const double cx = (ww - 1.0) / 2.0, cy = (hh - 1.0) / 2.0;
    m[0] = zx; m[1] = 0.0; m[2] = cx * (1.0 - zx); m[3] = 0.0; m[4] = zy; m[5] = cy * (1.0 - zy);
  } else {
    const double angle = (s.height_lower + (s.height_upper - s.height_lower) * u0) * 2.0 *
                         3.14159265358979323846;
    const double c = std::cos(angle), sn = std::sin(angle);
    const double wm = ww - 1.0, hm = hh - 1.0;
    m[0] = c; m[1] = -sn; m[2] = (wm - (c * wm - sn * hm)) / 2.0;
    m[3] = sn; m[4] = c; m[5] = (hm - (sn * wm + c * hm)) / 2.0;
  }
  for (int i = 0; i < 6; ++i) out[i] = static_cast<float>(m[i]);
}

}  // namespace ff
