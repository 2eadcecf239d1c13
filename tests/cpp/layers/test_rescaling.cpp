// Tests for layers/rescaling.cpp: y = x * scale + offset elementwise on any rank, dx = dy * scale
// (shared gradient helper), the identity (1, 0) as a view, and non-finite arguments refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/rescaling.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Rescaling: y = x * scale + offset", "[layers][rescaling]") {
  ff::Rescaling layer("rescaling", 1, 1.0f / 255.0f, -0.5f);
  CHECK(layer.build({ff::kNone, 2, 2, 3}) == ff::Shape{ff::kNone, 2, 2, 3});
  CHECK_FALSE(layer.aliases_input(true));
  std::vector<float> xv(24);
  for (int i = 0; i < 24; ++i) xv[i] = static_cast<float>(i * 10);  // pixel-like 0..230
  ff::Tensor x = make_tensor({2, 2, 2, 3}, xv), y = ff::Tensor::zeros(fftest::device(), {2, 2, 2, 3});
  std::vector<ff::Tensor> scratch;
  layer.forward(x, y, scratch, fftest::simple_context(false));
  const auto yv = to_vector(y);
  for (int i = 0; i < 24; ++i) REQUIRE(yv[i] == Approx(xv[i] / 255.0 - 0.5).margin(1e-6));
}

TEST_CASE("Rescaling: gradient check", "[layers][rescaling][gradient]") {
  ff::Rescaling layer("rescaling", 1, -2.5f, 0.75f);
  LayerCheckSpec spec;
  spec.input_shape = {3, 4};
  spec.training = true;
  const auto r = check_layer_gradients(layer, spec);
  require_gradients_match(r);
  for (size_t i = 0; i < r.x.size(); ++i) CHECK(r.y[i] == Approx(r.x[i] * -2.5f + 0.75f));
}

TEST_CASE("Rescaling: the identity is a view, non-finite arguments raise", "[layers][rescaling]") {
  ff::Rescaling identity("rescaling", 1, 1.0f, 0.0f);
  CHECK(identity.aliases_input(true));
  CHECK(identity.aliases_input(false));
  ff::Rescaling shift("rescaling_1", 1, 1.0f, 1.0f);
  CHECK_FALSE(shift.aliases_input(false));
  CHECK_THROWS_AS(ff::Rescaling("r", 1, std::numeric_limits<float>::infinity(), 0.0f),
                  ff::ValueError);
  CHECK_THROWS_WITH(ff::Rescaling("r", 1, 1.0f, std::nanf("")), Catch::Contains("offset"));
}
