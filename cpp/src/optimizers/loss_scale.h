// DynamicLossScale: the loss scaling of ff.mixed_precision.LossScaleOptimizer (Keras's dynamic
// loss scaling for float16). The model multiplies the loss gradient by scale() so that small
// gradients survive float16's range; after the backward pass, finite gradients are divided by
// the scale and applied, and the scale doubles after `growth_steps` finite steps in a row;
// a step with any NaN/Inf gradient is skipped (no update, the inner optimizer's iterations
// unchanged) and the scale halves, never below 1 (TensorFlow's floor: at 1 a non-finite
// gradient is a real divergence, which check-numerics then reports naming the layer).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "optimizers/optimizer.h"

namespace ff {

class DynamicLossScale {
 public:
  DynamicLossScale(float initial_scale, int64_t growth_steps);

  float scale() const { return scale_; }
  float initial_scale() const { return initial_scale_; }
  int64_t growth_steps() const { return growth_steps_; }
  // Finite steps since the scale last changed.
  int64_t step_counter() const { return step_counter_; }
  // Restores a saved state (checked: scale >= 1 and finite, 0 <= counter < growth_steps).
  void set_state(float scale, int64_t step_counter);
  // Steps skipped so far because of non-finite gradients (not saved: a diagnostic).
  int64_t skipped_steps() const { return skipped_; }

  // Called after a backward pass whose gradients carry the factor scale(). Returns true when
  // every gradient in `segments` is finite: they are then unscaled in place and the step may
  // be applied. Returns false when the step must be skipped; the scale has then been halved.
  bool unscale(Backend& be, Tensor& grads, const std::vector<Segment>& segments);

 private:
  float initial_scale_, scale_;
  int64_t growth_steps_, step_counter_ = 0, skipped_ = 0;
};

}  // namespace ff
