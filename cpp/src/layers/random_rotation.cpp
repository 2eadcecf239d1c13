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

std::array<double, 6> RandomRotation::matrix(float u0, float, int64_t h, int64_t w) const {
  const double angle = factor_.at(u0) * 2.0 * M_PI;
  const double c = std::cos(angle), s = std::sin(angle);
  const double wm = static_cast<double>(w) - 1.0, hm = static_cast<double>(h) - 1.0;
  const double x0 = (wm - (c * wm - s * hm)) / 2.0;
  const double y0 = (hm - (s * wm + c * hm)) / 2.0;
  return {c, -s, x0, s, c, y0};
}

}  // namespace ff
