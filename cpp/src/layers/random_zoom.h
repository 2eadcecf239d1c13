// RandomZoom (Keras 3): in training, zooms each image about its centre by zy = 1 + U[height_factor]
// vertically and zx = 1 + U[width_factor] horizontally (zx = zy when width_factor is None, keeping
// the aspect ratio); a positive factor zooms out, a negative one in. Matrix
// [zx 0 (W-1)/2 (1-zx); 0 zy (H-1)/2 (1-zy)].
#pragma once
#include "layers/random_affine.h"

namespace ff {

class RandomZoom final : public RandomAffineLayer {
 public:
  // has_width_factor false: Keras's width_factor=None.
  RandomZoom(std::string name, uint64_t seed, FactorRange height_factor, bool has_width_factor,
             FactorRange width_factor, const std::string& fill_mode,
             const std::string& interpolation, float fill_value);
  const FactorRange& height_factor() const { return height_; }
  bool has_width_factor() const { return has_width_; }
  const FactorRange& width_factor() const { return width_; }

 protected:
  AffineSpec affine_spec() const override;
  bool is_identity() const override { return height_.zero() && (!has_width_ || width_.zero()); }

 private:
  FactorRange height_;
  bool has_width_;
  FactorRange width_;
};

}  // namespace ff
