// RandomZoom layer (see random_zoom.h).
#include "layers/random_zoom.h"

namespace ff {

RandomZoom::RandomZoom(std::string name, uint64_t seed, FactorRange height_factor,
                       bool has_width_factor, FactorRange width_factor,
                       const std::string& fill_mode, const std::string& interpolation,
                       float fill_value)
    : RandomAffineLayer(std::move(name), "RandomZoom", seed, fill_mode, interpolation,
                        fill_value),
      height_(height_factor),
      has_width_(has_width_factor),
      width_(width_factor) {
  check_factor(height_, "height_factor");
  if (has_width_) check_factor(width_, "width_factor");
}

std::array<double, 6> RandomZoom::matrix(float u0, float u1, int64_t h, int64_t w) const {
  const double zy = 1.0 + height_.at(u0);
  const double zx = has_width_ ? 1.0 + width_.at(u1) : zy;
  const double cx = (static_cast<double>(w) - 1.0) / 2.0, cy = (static_cast<double>(h) - 1.0) / 2.0;
  return {zx, 0.0, cx * (1.0 - zx), 0.0, zy, cy * (1.0 - zy)};
}

}  // namespace ff
