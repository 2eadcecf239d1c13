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

std::array<double, 6> RandomTranslation::matrix(float u0, float u1, int64_t h, int64_t w) const {
  const double dy = height_.at(u0) * static_cast<double>(h);
  const double dx = width_.at(u1) * static_cast<double>(w);
  return {1.0, 0.0, -dx, 0.0, 1.0, -dy};
}

}  // namespace ff
