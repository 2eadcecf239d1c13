// RandomTranslation (Keras 3): in training, shifts each image by a random fraction of its height
// and width, dy = U[height_factor] * H, dx = U[width_factor] * W (positive: down / right),
// filling the uncovered part according to fill_mode. Matrix [1 0 -dx; 0 1 -dy].
#pragma once
#include "layers/random_affine.h"

namespace ff {

class RandomTranslation final : public RandomAffineLayer {
 public:
  RandomTranslation(std::string name, uint64_t seed, FactorRange height_factor,
                    FactorRange width_factor, const std::string& fill_mode,
                    const std::string& interpolation, float fill_value);
  const FactorRange& height_factor() const { return height_; }
  const FactorRange& width_factor() const { return width_; }

 protected:
  AffineSpec affine_spec() const override;
  bool is_identity() const override { return height_.zero() && width_.zero(); }

 private:
  FactorRange height_, width_;
};

}  // namespace ff
