// RandomTranslation layer (see random_translation.h).
#include "layers/random_translation.h"

namespace ff {

RandomTranslation::RandomTranslation(std::string name, uint64_t seed, FactorRange height_factor,
                                     FactorRange width_factor, const std::string& fill_mode,
                                     const std::string& interpolation, float fill_value)
    : RandomAffineLayer(std::move(name), "RandomTranslation", seed, fill_mode, interpolation,
                        fill_value),
      height_(height_factor),
      width_(width_factor) {
  check_factor(height_, "height_factor");
  check_factor(width_, "width_factor");
}

AffineSpec RandomTranslation::affine_spec() const {
  AffineSpec s;
  s.kind = AffineKind::Translation;
  s.height_lower = height_.lower;
  s.height_upper = height_.upper;
  s.width_lower = width_.lower;
  s.width_upper = width_.upper;
  return s;
}

}  // namespace ff
