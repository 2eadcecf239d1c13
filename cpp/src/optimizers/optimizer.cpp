// Optimizer base: state allocation, clipping and weight decay (see optimizer.h).
#include "optimizers/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace ff {

Optimizer::Optimizer(std::string name, const OptimizerOptions& options)
    : name_(std::move(name)), options_(options) {
  set_learning_rate(options.learning_rate);
  int clip_options = (options.clipnorm > 0) + (options.clipvalue > 0) +
                     (options.global_clipnorm > 0);
  if (clip_options > 1)
    throw ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                     "Received: clipnorm=" + std::to_string(options.clipnorm) +
                     ", clipvalue=" + std::to_string(options.clipvalue) +
                     ", global_clipnorm=" + std::to_string(options.global_clipnorm));
  if (options.clipnorm < 0 || options.clipvalue < 0 || options.global_clipnorm < 0 ||
      options.weight_decay < 0)
    throw ValueError("clipnorm, clipvalue, global_clipnorm and weight_decay must be >= 0");
}

float Optimizer::learning_rate() const {
  if (!schedule_) return options_.learning_rate;
  return (*schedule_)(iterations_);
}

void Optimizer::set_schedule(std::shared_ptr<const LearningRateSchedule> schedule) {
  schedule_ = std::move(schedule);
  ++host_version_;
}

void Optimizer::set_learning_rate(float lr) {
  if (schedule_)
    throw TypeError("This optimizer was created with a learning-rate schedule (" +
                    schedule_->class_name() + ") as its `learning_rate`, hence its learning "
                    "rate is not settable. Create the optimizer with a float `learning_rate` "
                    "to set it (e.g. from a callback).");
  if (!(lr >= 0.0f) || std::isinf(lr))
    throw ValueError("learning_rate must be a finite number >= 0; received " + std::to_string(lr));
  options_.learning_rate = lr;
  ++host_version_;
}

void Optimizer::set_iterations(int64_t iterations) {
  if (iterations < 0)
    throw ValueError("optimizer iterations must be >= 0; received " + std::to_string(iterations));
  iterations_ = iterations;
  ++host_version_;
}

void Optimizer::build(Backend& be, int64_t n) {
  slots_.clear();
  auto names = slot_names();
  for (size_t i = 0; i < names.size(); ++i) {
    Tensor t = Tensor::empty(be.device(), {n});
    be.fill(t.data<float>(), n, slot_initial_value(i));
    slots_.push_back(t);
  }
  iterations_ = 0;
  ++host_version_;
  built_ = true;
}

const ScheduleSpec& Optimizer::kernel_schedule(Backend& be) {
  if (!schedule_) {
    kernel_schedule_ = ScheduleSpec();
    kernel_schedule_for_ = nullptr;
    return kernel_schedule_;
  }
  if (kernel_schedule_for_ == schedule_.get()) return kernel_schedule_;
  kernel_schedule_ = schedule_->spec();
  if (kernel_schedule_.kind == ScheduleKind::Piecewise) {
    const int64_t pieces = kernel_schedule_.pieces;
    kernel_values_ = Tensor::empty(be.device(), {pieces});
    be.device().copy_from_host(kernel_values_.raw(), kernel_schedule_.values,
                               static_cast<size_t>(pieces) * sizeof(float));
    kernel_boundaries_ = Tensor::empty(be.device(), {std::max<int64_t>(pieces - 1, 1)},
                                       DType::Float64);
    be.device().copy_from_host(kernel_boundaries_.raw(), kernel_schedule_.boundaries,
                               static_cast<size_t>(pieces - 1) * sizeof(double));
    kernel_schedule_.values = kernel_values_.data<float>();
    kernel_schedule_.boundaries = kernel_boundaries_.data<double>();
  }
  kernel_schedule_for_ = schedule_.get();
  return kernel_schedule_;
}

void Optimizer::enqueue_update(Backend& be, StepState* state, Tensor& params, Tensor& grads,
                               const std::vector<Segment>& segments) {
  if (!built_) throw ValueError("optimizer \"" + name_ + "\" is used before build()");
  const auto [beta1, beta2] = betas();
  be.prepare_update(state, kernel_schedule(be), beta1, beta2);
  float* g = grads.data<float>();
  float* p = params.data<float>();
  // Contiguous runs of the segments, so a model without frozen layers is one fused pass.
  std::vector<Segment> runs;
  for (const auto& [offset, size] : segments) {
    if (!runs.empty() && runs.back().first + runs.back().second == offset) runs.back().second += size;
    else runs.push_back({offset, size});
  }
  if (options_.clipvalue > 0)
    for (const auto& [offset, size] : runs)
      be.clip(g + offset, size, -options_.clipvalue, options_.clipvalue);
  if (options_.clipnorm > 0)
    for (const auto& [offset, size] : segments) be.clip_by_norm(g + offset, size, options_.clipnorm);
  if (options_.global_clipnorm > 0) {
    for (const auto& [offset, size] : runs) be.add_sum_squares(g + offset, size, state);
    for (const auto& [offset, size] : runs)
      be.clip_by_global_norm(g + offset, size, options_.global_clipnorm, state);
  }
  for (const auto& [offset, size] : runs) {
    if (options_.weight_decay > 0) be.decay_weights(p + offset, size, options_.weight_decay, state);
    slot_offset_ = offset;
    update(be, p + offset, g + offset, size, state);
  }
  slot_offset_ = 0;
  be.finish_update(state);
}

void Optimizer::apply(Backend& be, Tensor& params, Tensor& grads,
                      const std::vector<Segment>& segments) {
  if (!built_) throw ValueError("optimizer \"" + name_ + "\" is used before build()");
  if (segments.empty()) return;  // nothing trainable: the step changes no parameter
  Device& device = be.device();
  Tensor block = Tensor::zeros(device, {static_cast<int64_t>(step_state_bytes(0))}, DType::UInt8);
  StepState host{};
  host.iterations = iterations_;
  host.base_learning_rate = options_.learning_rate;
  host.loss_scale = 1.0f;
  host.grads_finite = 1;
  device.copy_from_host(block.raw(), &host, sizeof host);
  auto* state = static_cast<StepState*>(block.raw());
  enqueue_update(be, state, params, grads, segments);
  device.copy_to_host(&host, state, sizeof host);
  iterations_ = host.iterations;
}

}  // namespace ff
