// Tests for optimizers/schedules/exponential_decay.cpp against Keras 3's ExponentialDecay,
// values worked out by hand: lr0 * rate^(step / decay_steps), exponent floored if staircase.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

TEST_CASE("ExponentialDecay: continuous", "[optimizers][schedules]") {
  auto s = ff::make_exponential_decay(0.1, 10, 0.5, false);
  CHECK(s->class_name() == "ExponentialDecay");
  CHECK((*s)(0) == Approx(0.1));
  CHECK((*s)(5) == Approx(0.0707106781).epsilon(1e-6));  // 0.1 * 0.5^0.5
  CHECK((*s)(10) == Approx(0.05));
  CHECK((*s)(25) == Approx(0.0176776695).epsilon(1e-6));  // 0.1 * 0.5^2.5
}

TEST_CASE("ExponentialDecay: staircase", "[optimizers][schedules]") {
  auto s = ff::make_exponential_decay(0.1, 10, 0.5, true);
  CHECK((*s)(5) == Approx(0.1));
  CHECK((*s)(9) == Approx(0.1));
  CHECK((*s)(10) == Approx(0.05));
  CHECK((*s)(19) == Approx(0.05));
  CHECK((*s)(25) == Approx(0.025));
}

TEST_CASE("ExponentialDecay: decay_steps must be positive", "[optimizers][schedules]") {
  CHECK_THROWS_AS(ff::make_exponential_decay(0.1, 0, 0.5, false), ff::ValueError);
  CHECK_THROWS_WITH(ff::make_exponential_decay(0.1, -3, 0.5, false),
                    Catch::Contains("decay_steps") && Catch::Contains("> 0"));
}
