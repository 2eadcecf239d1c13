// DynamicLossScale: the loss scaling of ff.mixed_precision.LossScaleOptimizer (Keras's dynamic
// loss scaling for float16). The model multiplies the loss gradient by the scale so that small
// gradients survive float16's range; after the backward pass, finite gradients are divided by
// the scale and applied, and the scale doubles after `growth_steps` finite steps in a row;
// a step with any NaN/Inf gradient is skipped (no update, the inner optimizer's iterations
// unchanged) and the scale halves, never below 1 (TensorFlow's floor: at 1 a non-finite
// gradient is a real divergence, which check-numerics then reports naming the layer).
// During a loop the scale and its counters live in the model's step-state block and kernels
// apply these rules (state_loss_scale_update); this object holds the settings and a host mirror
// that the model synchronises at its sync points.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/backend.h"
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

  // The model's mirror of the step-state block after a sync.
  void mirror(float scale, int64_t step_counter, int64_t skipped) {
    scale_ = scale;
    step_counter_ = step_counter;
    skipped_ = skipped;
  }

  // Enqueues, after a backward pass whose gradients carry the state's scale: the finite check
  // over `segments`, unscaling (finite steps only) and the scale update (state_loss_scale_update).
  void enqueue_unscale(Backend& be, StepState* state, Tensor& grads,
                       const std::vector<Segment>& segments) const;
  // The same outside a model (tests): with a step-state block of its own holding the mirror;
  // returns whether the gradients were finite (unscaled, the step may apply).
  bool unscale(Backend& be, Tensor& grads, const std::vector<Segment>& segments);

 private:
  float initial_scale_, scale_;
  int64_t growth_steps_, step_counter_ = 0, skipped_ = 0;
};

}  // namespace ff
