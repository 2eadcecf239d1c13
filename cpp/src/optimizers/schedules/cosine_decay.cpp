// CosineDecay (Keras 3) with optional linear warm-up. Without warmup_target:
//   s = min(step, decay_steps); lr = lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi s / decay_steps)) + alpha)
// With warmup_target: s = min(step, warmup_steps + decay_steps); while s < warmup_steps
//   lr = lr0 + (warmup_target - lr0) * s / warmup_steps, then the cosine decay above of
//   (s - warmup_steps) starting from warmup_target. Computed in float32 like Keras.
#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

namespace ff {
namespace {

class CosineDecay final : public LearningRateSchedule {
 public:
  CosineDecay(float lr0, float decay_steps, float alpha, bool warm, float warmup_target,
              float warmup_steps)
      : lr0_(lr0), decay_steps_(decay_steps), alpha_(alpha), warm_(warm),
        warmup_target_(warmup_target), warmup_steps_(warmup_steps) {}

  ScheduleSpec spec() const override {
    ScheduleSpec s;
    s.kind = ScheduleKind::Cosine;
    s.initial = lr0_;
    s.decay_steps = decay_steps_;
    s.rate = alpha_;
    s.warmup = warm_ ? 1 : 0;
    s.warmup_target = warmup_target_;
    s.warmup_steps = warmup_steps_;
    return s;
  }
  std::string class_name() const override { return "CosineDecay"; }

 private:
  float lr0_, decay_steps_, alpha_;
  bool warm_;
  float warmup_target_, warmup_steps_;
};

}  // namespace

std::shared_ptr<LearningRateSchedule> make_cosine_decay(double initial_learning_rate,
                                                        double decay_steps, double alpha,
                                                        bool has_warmup_target,
                                                        double warmup_target,
                                                        double warmup_steps) {
  if (!(decay_steps > 0) || std::isinf(decay_steps))
    throw ValueError("CosineDecay: argument `decay_steps` must be > 0. Received: decay_steps=" +
                     std::to_string(decay_steps));
  if (!(warmup_steps >= 0) || std::isinf(warmup_steps))
    throw ValueError("CosineDecay: argument `warmup_steps` must be >= 0. Received: warmup_steps=" +
                     std::to_string(warmup_steps));
  return std::make_shared<CosineDecay>(
      static_cast<float>(initial_learning_rate), static_cast<float>(decay_steps),
      static_cast<float>(alpha), has_warmup_target, static_cast<float>(warmup_target),
      static_cast<float>(warmup_steps));
}

}  // namespace ff
