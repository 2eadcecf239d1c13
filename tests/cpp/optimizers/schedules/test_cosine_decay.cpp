// Tests for optimizers/schedules/cosine_decay.cpp against Keras 3's CosineDecay, values worked
// out by hand: lr0 ((1 - alpha) 0.5 (1 + cos(pi min(step, D) / D)) + alpha), and with warm-up a
// linear ramp from lr0 to warmup_target over W steps, then the decay from warmup_target.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

TEST_CASE("CosineDecay: no warm-up", "[optimizers][schedules]") {
  auto s = ff::make_cosine_decay(1.0, 10, 0.0, false, 0.0, 0.0);
  CHECK(s->class_name() == "CosineDecay");
  CHECK((*s)(0) == Approx(1.0));
  CHECK((*s)(2) == Approx(0.9045084972).epsilon(1e-6));  // 0.5 (1 + cos(0.2 pi))
  CHECK((*s)(5) == Approx(0.5));
  CHECK((*s)(10) == Approx(0.0).margin(1e-7));
  CHECK((*s)(20) == Approx(0.0).margin(1e-7));  // clamped at decay_steps
}

TEST_CASE("CosineDecay: alpha is the floor fraction", "[optimizers][schedules]") {
  auto s = ff::make_cosine_decay(2.0, 10, 0.1, false, 0.0, 0.0);
  CHECK((*s)(0) == Approx(2.0));
  CHECK((*s)(5) == Approx(1.1));  // 2 (0.9 * 0.5 + 0.1)
  CHECK((*s)(10) == Approx(0.2));
  CHECK((*s)(50) == Approx(0.2));
}

TEST_CASE("CosineDecay: linear warm-up then decay", "[optimizers][schedules]") {
  auto s = ff::make_cosine_decay(0.0, 10, 0.0, true, 1.0, 4);
  CHECK((*s)(0) == Approx(0.0).margin(1e-7));
  CHECK((*s)(1) == Approx(0.25));
  CHECK((*s)(2) == Approx(0.5));
  CHECK((*s)(3) == Approx(0.75));
  CHECK((*s)(4) == Approx(1.0));  // end of warm-up: the decay starts at warmup_target
  CHECK((*s)(9) == Approx(0.5));
  CHECK((*s)(14) == Approx(0.0).margin(1e-7));
  CHECK((*s)(100) == Approx(0.0).margin(1e-7));
  // warm-up from a non-zero start: 0.1 + (1 - 0.1) * 2 / 4
  auto t = ff::make_cosine_decay(0.1, 10, 0.0, true, 1.0, 4);
  CHECK((*t)(2) == Approx(0.55));
}

TEST_CASE("CosineDecay: argument checks", "[optimizers][schedules]") {
  CHECK_THROWS_AS(ff::make_cosine_decay(1.0, 0, 0.0, false, 0.0, 0.0), ff::ValueError);
  CHECK_THROWS_AS(ff::make_cosine_decay(1.0, 10, 0.0, true, 1.0, -1), ff::ValueError);
}
