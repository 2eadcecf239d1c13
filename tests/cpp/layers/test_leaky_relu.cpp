// Tests for layers/leaky_relu.cpp: LeakyReLU(negative_slope) against its definition, its
// finite-difference gradient (shared helper), the same bits as Activation("leaky_relu") for the
// same slope, and the error for a negative slope.
#include <catch2/catch.hpp>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/leaky_relu.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("LeakyReLU layer: x or slope * x and its gradient", "[layers][leaky_relu][gradient]") {
  const float slope = GENERATE(0.3f, 0.0f, 1.7f);
  ff::LeakyReLU layer("leaky_re_lu", 1, slope);
  CHECK(layer.class_name() == "LeakyReLU");
  CHECK(layer.negative_slope() == slope);
  LayerCheckSpec spec;
  spec.input_shape = {3, 2, 4};
  spec.seed = 9;
  const auto r = check_layer_gradients(layer, spec);
  for (size_t i = 0; i < r.x.size(); ++i)
    CHECK(r.y[i] == Approx(r.x[i] >= 0 ? r.x[i] : slope * r.x[i]).margin(1e-7));
  require_gradients_match(r);
}

TEST_CASE("LeakyReLU layer: a negative slope is refused", "[layers][leaky_relu]") {
  CHECK_THROWS_WITH(ff::LeakyReLU("l", 1, -0.1f),
                    Catch::Contains("The negative_slope value of a Leaky ReLU layer cannot be "
                                    "None or negative value"));
}
