// ExponentialDecay (Keras 3): lr0 * decay_rate ^ (step / decay_steps), the exponent floored
// when staircase. Computed in float32 like Keras (whose schedules run in the dtype of lr0).
#include <cmath>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

namespace ff {
namespace {

class ExponentialDecay final : public LearningRateSchedule {
 public:
  ExponentialDecay(float lr0, float decay_steps, float decay_rate, bool staircase)
      : lr0_(lr0), decay_steps_(decay_steps), decay_rate_(decay_rate), staircase_(staircase) {}
  ScheduleSpec spec() const override {
    ScheduleSpec s;
    s.kind = ScheduleKind::Exponential;
    s.initial = lr0_;
    s.decay_steps = decay_steps_;
    s.rate = decay_rate_;
    s.staircase = staircase_ ? 1 : 0;
    return s;
  }
  std::string class_name() const override { return "ExponentialDecay"; }

 private:
  float lr0_, decay_steps_, decay_rate_;
  bool staircase_;
};

}  // namespace

std::shared_ptr<LearningRateSchedule> make_exponential_decay(double initial_learning_rate,
                                                             double decay_steps,
                                                             double decay_rate, bool staircase) {
  if (!(decay_steps > 0) || std::isinf(decay_steps))
    throw ValueError("ExponentialDecay: argument `decay_steps` must be > 0. Received: decay_steps=" +
                     std::to_string(decay_steps));
  return std::make_shared<ExponentialDecay>(static_cast<float>(initial_learning_rate),
                                            static_cast<float>(decay_steps),
                                            static_cast<float>(decay_rate), staircase);
}

}  // namespace ff
