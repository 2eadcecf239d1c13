// Tests of optimizers/loss_scale.cpp: finite gradients are unscaled and counted, the scale
// doubles after growth_steps good steps, a non-finite gradient skips the step and halves the
// scale (never below 1), frozen segments are not looked at, and bad settings are refused.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "optimizers/loss_scale.h"
#include "test_util.h"

using fftest::backend;
using fftest::make_tensor;
using fftest::to_vector;

TEST_CASE("finite gradients are divided by the scale, which grows after growth_steps", "[loss_scale]") {
  ff::DynamicLossScale ls(8.0f, 3);
  ff::Tensor g = make_tensor({4}, {8.0f, -16.0f, 4.0f, 0.0f});
  std::vector<ff::Segment> all{{0, 4}};
  REQUIRE(ls.unscale(fftest::backend(), g, all));
  CHECK(to_vector(g) == std::vector<float>{1.0f, -2.0f, 0.5f, 0.0f});
  CHECK(ls.step_counter() == 1);
  CHECK(ls.scale() == 8.0f);
  REQUIRE(ls.unscale(fftest::backend(), g, all));
  REQUIRE(ls.unscale(fftest::backend(), g, all));
  CHECK(ls.scale() == 16.0f);  // third good step in a row
  CHECK(ls.step_counter() == 0);
}

TEST_CASE("a non-finite gradient skips the step, halves the scale and leaves gradients alone", "[loss_scale]") {
  ff::DynamicLossScale ls(4.0f, 100);
  const float inf = std::numeric_limits<float>::infinity();
  ff::Tensor g = make_tensor({3}, {1.0f, inf, 2.0f});
  std::vector<ff::Segment> all{{0, 3}};
  CHECK_FALSE(ls.unscale(fftest::backend(), g, all));
  CHECK(ls.scale() == 2.0f);
  CHECK(ls.skipped_steps() == 1);
  CHECK(to_vector(g)[0] == 1.0f);  // not unscaled
  CHECK_FALSE(ls.unscale(fftest::backend(), g, all));
  CHECK_FALSE(ls.unscale(fftest::backend(), g, all));
  CHECK(ls.scale() == 1.0f);  // the floor
  // A NaN in a frozen range (not among the segments) is not looked at.
  ff::Tensor h = make_tensor({3}, {2.0f, std::nanf(""), 4.0f});
  CHECK(ls.unscale(fftest::backend(), h, {{0, 1}}));
  CHECK(to_vector(h)[0] == 2.0f);  // scale 1
}

TEST_CASE("loss scale settings and restored state are validated", "[loss_scale]") {
  CHECK_THROWS_AS(ff::DynamicLossScale(0.5f, 10), ff::ValueError);
  CHECK_THROWS_AS(ff::DynamicLossScale(std::numeric_limits<float>::infinity(), 10), ff::ValueError);
  CHECK_THROWS_AS(ff::DynamicLossScale(2.0f, 0), ff::ValueError);
  ff::DynamicLossScale ls(2.0f, 10);
  ls.set_state(64.0f, 9);
  CHECK(ls.scale() == 64.0f);
  CHECK(ls.step_counter() == 9);
  CHECK_THROWS_AS(ls.set_state(64.0f, 10), ff::ValueError);
  CHECK_THROWS_AS(ls.set_state(0.0f, 0), ff::ValueError);
}
