// Optimizer base: state allocation, clipping and weight decay (see optimizer.h).
#include "optimizers/optimizer.h"

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
  return applying_ ? step_lr_ : (*schedule_)(iterations_);
}

void Optimizer::set_schedule(std::shared_ptr<const LearningRateSchedule> schedule) {
  schedule_ = std::move(schedule);
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
}

void Optimizer::set_iterations(int64_t iterations) {
  if (iterations < 0)
    throw ValueError("optimizer iterations must be >= 0; received " + std::to_string(iterations));
  iterations_ = iterations;
}

void Optimizer::build(Backend& be, int64_t n) {
  slots_.clear();
  auto names = slot_names();
  for (size_t i = 0; i < names.size(); ++i) {
    Tensor t = Tensor::empty(be, {n});
    be.fill(t.data<float>(), n, slot_initial_value(i));
    slots_.push_back(t);
  }
  iterations_ = 0;
  built_ = true;
}

void Optimizer::apply(Backend& be, Tensor& params, Tensor& grads,
                      const std::vector<Segment>& segments) {
  if (!built_) throw ValueError("optimizer \"" + name_ + "\" is used before build()");
  if (segments.empty()) return;  // nothing trainable: the step changes no parameter
  float* g = grads.data<float>();
  float* p = params.data<float>();
  // Contiguous runs of the segments, so a model without frozen layers is one fused pass.
  std::vector<Segment> runs;
  for (const auto& [offset, size] : segments) {
    if (!runs.empty() && runs.back().first + runs.back().second == offset) runs.back().second += size;
    else runs.push_back({offset, size});
  }
  if (options_.clipvalue > 0)
    for (const auto& [offset, size] : runs) be.clip(g + offset, size, -options_.clipvalue, options_.clipvalue);
  if (options_.clipnorm > 0) {
    for (const auto& [offset, size] : segments) {
      double norm = std::sqrt(be.sum_squares(g + offset, size));
      if (norm > options_.clipnorm)
        be.scale(g + offset, size, static_cast<float>(options_.clipnorm / norm));
    }
  }
  if (options_.global_clipnorm > 0) {
    double squares = 0.0;
    for (const auto& [offset, size] : runs) squares += be.sum_squares(g + offset, size);
    double norm = std::sqrt(squares);
    if (norm > options_.global_clipnorm)
      for (const auto& [offset, size] : runs)
        be.scale(g + offset, size, static_cast<float>(options_.global_clipnorm / norm));
  }
  // The schedule is evaluated at the iteration count before the step, as in Keras 3.
  step_lr_ = learning_rate();
  struct Applying {  // learning_rate() returns step_lr_ while the update runs
    bool& flag;
    explicit Applying(bool& f) : flag(f) { flag = true; }
    ~Applying() { flag = false; }
  } applying(applying_);
  ++iterations_;
  for (const auto& [offset, size] : runs) {
    if (options_.weight_decay > 0)
      be.scale(p + offset, size, 1.0f - options_.weight_decay * step_lr_);
    slot_offset_ = offset;
    update(be, p + offset, g + offset, size);
  }
  slot_offset_ = 0;
}

}  // namespace ff
