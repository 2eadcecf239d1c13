// Tests for optimizers/schedules/inverse_time_decay.cpp against Keras 3's InverseTimeDecay,
// values worked out by hand: lr0 / (1 + rate * step / decay_steps), quotient floored if staircase.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

TEST_CASE("InverseTimeDecay: continuous", "[optimizers][schedules]") {
  auto s = ff::make_inverse_time_decay(0.1, 10, 0.5, false);
  CHECK(s->class_name() == "InverseTimeDecay");
  CHECK((*s)(0) == Approx(0.1));
  CHECK((*s)(5) == Approx(0.08));          // 0.1 / 1.25
  CHECK((*s)(10) == Approx(0.0666666667));  // 0.1 / 1.5
  CHECK((*s)(30) == Approx(0.04));          // 0.1 / 2.5
}

TEST_CASE("InverseTimeDecay: staircase", "[optimizers][schedules]") {
  auto s = ff::make_inverse_time_decay(0.1, 10, 0.5, true);
  CHECK((*s)(5) == Approx(0.1));
  CHECK((*s)(15) == Approx(0.0666666667));
  CHECK((*s)(30) == Approx(0.04));
}

TEST_CASE("InverseTimeDecay: decay_steps must be positive", "[optimizers][schedules]") {
  CHECK_THROWS_AS(ff::make_inverse_time_decay(0.1, 0, 0.5, false), ff::ValueError);
}
