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

AffineSpec RandomZoom::affine_spec() const {
  AffineSpec s;
  s.kind = AffineKind::Zoom;
  s.height_lower = height_.lower;
  s.height_upper = height_.upper;
  s.width_lower = width_.lower;
  s.width_upper = width_.upper;
  s.has_width = has_width_ ? 1 : 0;
  return s;
}

}  // namespace ff
