// Tests for optimizers/schedules/piecewise_constant_decay.cpp: Keras 3's docstring example
// (boundaries [100000, 110000], values [1.0, 0.5, 0.1]); a step equal to a boundary stays in
// the earlier piece.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizers/schedules/learning_rate_schedule.h"

TEST_CASE("PiecewiseConstantDecay: pieces and boundaries", "[optimizers][schedules]") {
  auto s = ff::make_piecewise_constant_decay({100000, 110000}, {1.0, 0.5, 0.1});
  CHECK(s->class_name() == "PiecewiseConstantDecay");
  CHECK((*s)(0) == Approx(1.0));
  CHECK((*s)(100000) == Approx(1.0));
  CHECK((*s)(100001) == Approx(0.5));
  CHECK((*s)(110000) == Approx(0.5));
  CHECK((*s)(110001) == Approx(0.1));
  CHECK((*s)(10000000) == Approx(0.1));
}

TEST_CASE("PiecewiseConstantDecay: no boundary is one constant", "[optimizers][schedules]") {
  auto s = ff::make_piecewise_constant_decay({}, {0.3});
  CHECK((*s)(0) == Approx(0.3));
  CHECK((*s)(1000) == Approx(0.3));
}

TEST_CASE("PiecewiseConstantDecay: argument checks", "[optimizers][schedules]") {
  CHECK_THROWS_WITH(ff::make_piecewise_constant_decay({10, 20}, {1.0, 0.5}),
                    Catch::Contains("1 less than the length of values") &&
                        Catch::Contains("of length 2"));
  CHECK_THROWS_AS(ff::make_piecewise_constant_decay({20, 10}, {1.0, 0.5, 0.1}), ff::ValueError);
  CHECK_THROWS_AS(ff::make_piecewise_constant_decay({10, 10}, {1.0, 0.5, 0.1}), ff::ValueError);
}
