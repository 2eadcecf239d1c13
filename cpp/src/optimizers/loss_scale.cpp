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

void DynamicLossScale::enqueue_unscale(Backend& be, StepState* state, Tensor& grads,
                                       const std::vector<Segment>& segments) const {
  float* g = grads.data<float>();
  for (const auto& [offset, size] : segments) be.check_finite(g + offset, size, state);
  for (const auto& [offset, size] : segments) be.apply_loss_scale(g + offset, size, state, true);
  be.loss_scale_update(state, growth_steps_);
}

bool DynamicLossScale::unscale(Backend& be, Tensor& grads, const std::vector<Segment>& segments) {
  Device& device = be.device();
  Tensor block = Tensor::zeros(device, {static_cast<int64_t>(step_state_bytes(0))}, DType::UInt8);
  StepState host{};
  host.loss_scale = scale_;
  host.loss_scaling = 1;
  host.loss_scale_counter = step_counter_;
  host.skipped_steps = skipped_;
  host.grads_finite = 1;
  device.copy_from_host(block.raw(), &host, sizeof host);
  auto* state = static_cast<StepState*>(block.raw());
  enqueue_unscale(be, state, grads, segments);
  device.copy_to_host(&host, state, sizeof host);
  mirror(host.loss_scale, host.loss_scale_counter, host.skipped_steps);
  return host.grads_finite != 0;
}

}  // namespace ff
