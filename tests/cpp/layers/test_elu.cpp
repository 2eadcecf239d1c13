// Tests for layers/elu.cpp: ELU(alpha) against alpha * (exp(x) - 1) below 0 and x above, its
// finite-difference gradient (shared helper), and the error for a non-finite alpha.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/elu.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("ELU layer: alpha * expm1(x) below 0 and its gradient", "[layers][elu][gradient]") {
  const float alpha = GENERATE(1.0f, 0.5f, 2.5f);
  ff::ELU layer("elu", 1, alpha);
  CHECK(layer.class_name() == "ELU");
  LayerCheckSpec spec;
  spec.input_shape = {4, 5};
  spec.seed = 12;
  spec.input_max = 2.0f;
  const auto r = check_layer_gradients(layer, spec);
  for (size_t i = 0; i < r.x.size(); ++i) {
    const double x = r.x[i];
    CHECK(r.y[i] == Approx(x > 0 ? x : alpha * std::expm1(x)).margin(1e-6).epsilon(1e-5));
  }
  require_gradients_match(r);
}

TEST_CASE("ELU layer: a non-finite alpha is refused", "[layers][elu]") {
  CHECK_THROWS_WITH(ff::ELU("e", 1, std::nanf("")),
                    Catch::Contains("alpha value of an ELU layer must be a finite number"));
}
