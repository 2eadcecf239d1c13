// DynamicLossScale (see loss_scale.h): the finite check, unscaling and scale updates.
#include "optimizers/loss_scale.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"

namespace ff {

DynamicLossScale::DynamicLossScale(float initial_scale, int64_t growth_steps)
    : initial_scale_(initial_scale), scale_(initial_scale), growth_steps_(growth_steps) {
  if (!(initial_scale >= 1.0f) || std::isinf(initial_scale))
    throw ValueError("LossScaleOptimizer: initial_scale must be a finite number >= 1; received " +
                     std::to_string(initial_scale));
  if (growth_steps < 1)
    throw ValueError("LossScaleOptimizer: dynamic_growth_steps must be a positive integer; "
                     "received " + std::to_string(growth_steps));
}

void DynamicLossScale::set_state(float scale, int64_t step_counter) {
  if (!(scale >= 1.0f) || std::isinf(scale))
    throw ValueError("loss scale must be a finite number >= 1; received " + std::to_string(scale));
  if (step_counter < 0 || step_counter >= growth_steps_)
    throw ValueError("loss scale step counter must be in [0, " + std::to_string(growth_steps_) +
                     "); received " + std::to_string(step_counter));
  scale_ = scale;
  step_counter_ = step_counter;
}

bool DynamicLossScale::unscale(Backend& be, Tensor& grads, const std::vector<Segment>& segments) {
  float* g = grads.data<float>();
  for (const auto& [offset, size] : segments)
    if (be.has_nonfinite(g + offset, size)) {
      scale_ = std::max(1.0f, scale_ * 0.5f);
      step_counter_ = 0;
      ++skipped_;
      return false;
    }
  const float inverse = 1.0f / scale_;  // scales are powers of two times the initial scale
  for (const auto& [offset, size] : segments) be.scale(g + offset, size, inverse);
  if (++step_counter_ >= growth_steps_) {
    const float grown = scale_ * 2.0f;
    if (std::isfinite(grown)) scale_ = grown;
    step_counter_ = 0;
  }
  return true;
}

}  // namespace ff
