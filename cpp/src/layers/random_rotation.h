// RandomRotation (Keras 3): in training, rotates each image about its centre by an angle
// U[factor] * 2 pi (a fraction of a full turn; positive counter-clockwise), filling the corners
// according to fill_mode. Matrix [cos -sin x0; sin cos y0] with the offsets that keep the centre
// ((W-1)/2, (H-1)/2) fixed, as Keras's rotation matrix.
#pragma once
#include "layers/random_affine.h"

namespace ff {

class RandomRotation final : public RandomAffineLayer {
 public:
  RandomRotation(std::string name, uint64_t seed, FactorRange factor, const std::string& fill_mode,
                 const std::string& interpolation, float fill_value);
  const FactorRange& factor() const { return factor_; }

 protected:
  AffineSpec affine_spec() const override;
  bool is_identity() const override { return factor_.zero(); }

 private:
  FactorRange factor_;
};

}  // namespace ff
