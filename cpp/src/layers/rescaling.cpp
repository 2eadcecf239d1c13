// Rescaling layer (see rescaling.h): forward x * scale + offset, backward dx = dy * scale.
#include "layers/rescaling.h"

#include <cmath>

#include "core/errors.h"

namespace ff {

Rescaling::Rescaling(std::string name, uint64_t seed, float scale, float offset)
    : Layer(std::move(name), "Rescaling", seed), scale_(scale), offset_(offset) {
  if (!std::isfinite(scale) || !std::isfinite(offset))
    throw ValueError("Rescaling expects finite `scale` and `offset`; received scale=" +
                     std::to_string(scale) + ", offset=" + std::to_string(offset));
}

void Rescaling::forward(const Tensor& x, Tensor& y, std::vector<Tensor>&, const StepContext& ctx) {
  ctx.backend->scale_shift(x.data<float>(), y.data<float>(), x.numel(), scale_, offset_);
}

void Rescaling::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx,
                         std::vector<Tensor>&, const StepContext& ctx) {
  if (dx) ctx.backend->scale_shift(dy.data<float>(), dx->data<float>(), dy.numel(), scale_, 0.0f);
}

}  // namespace ff
