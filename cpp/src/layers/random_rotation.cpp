// RandomRotation layer (see random_rotation.h).
#include "layers/random_rotation.h"

#include <cmath>

namespace ff {

RandomRotation::RandomRotation(std::string name, uint64_t seed, FactorRange factor,
                               const std::string& fill_mode, const std::string& interpolation,
                               float fill_value)
    : RandomAffineLayer(std::move(name), "RandomRotation", seed, fill_mode, interpolation,
                        fill_value),
      factor_(factor) {
  check_factor(factor_, "factor");
}

AffineSpec RandomRotation::affine_spec() const {
  AffineSpec s;
  s.kind = AffineKind::Rotation;
  s.height_lower = factor_.lower;
  s.height_upper = factor_.upper;
  return s;
}

}  // namespace ff
