// Learning-rate schedules evaluated in C++ at every optimizer step (no Python per step): the
// step's prepare-update kernel evaluates the schedule's ScheduleSpec (backend/schedule_spec.h) at
// the iteration count before the step, as Keras 3 does; the host evaluates the same spec for
// optimizer.learning_rate. Formulas follow keras.optimizers.schedules (Keras 3); one file per
// schedule, each giving its spec.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/schedule_spec.h"

namespace ff {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // Learning rate at optimizer step `step` (0 for the first update).
  float operator()(int64_t step) const { return schedule_value(spec(), step); }
  // The schedule as data (host memory for a piecewise schedule's arrays).
  virtual ScheduleSpec spec() const = 0;
  // Keras class name ("ExponentialDecay", ...).
  virtual std::string class_name() const = 0;
};

// lr0 * decay_rate ^ (step / decay_steps), the exponent floored when staircase.
std::shared_ptr<LearningRateSchedule> make_exponential_decay(double initial_learning_rate,
                                                             double decay_steps,
                                                             double decay_rate, bool staircase);
// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
// boundaries[i], values.back() after the last boundary. boundaries must be increasing and
// values one longer.
std::shared_ptr<LearningRateSchedule> make_piecewise_constant_decay(
    const std::vector<double>& boundaries, const std::vector<double>& values);
// Optional linear warm-up from initial_learning_rate to warmup_target over warmup_steps, then
// cosine decay over decay_steps down to alpha * (warmup_target or initial_learning_rate).
// has_warmup_target false: no warm-up (Keras warmup_target=None).
std::shared_ptr<LearningRateSchedule> make_cosine_decay(double initial_learning_rate,
                                                        double decay_steps, double alpha,
                                                        bool has_warmup_target,
                                                        double warmup_target,
                                                        double warmup_steps);
// lr0 / (1 + decay_rate * step / decay_steps), the quotient floored when staircase.
std::shared_ptr<LearningRateSchedule> make_inverse_time_decay(double initial_learning_rate,
                                                              double decay_steps,
                                                              double decay_rate, bool staircase);

}  // namespace ff
