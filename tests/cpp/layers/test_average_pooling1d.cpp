// Tests for layers/average_pooling1d.cpp: values against the naive reference (window_reference.h,
// height 1; "same" divides by the positions inside the input) and finite-difference gradients
// (shared helper) for valid/same padding and overlapping windows.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gradient_check.h"
#include "layers/average_pooling1d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

TEST_CASE("AveragePooling1D: values and gradients", "[layers][average_pooling1d][gradient]") {
  struct Case {
    int64_t steps, pool, strides;
    std::string padding;
  };
  const Case c = GENERATE(Case{7, 2, 0, "valid"}, Case{7, 3, 2, "same"}, Case{8, 3, 1, "valid"},
                          Case{5, 4, 0, "same"});
  CAPTURE(c.steps, c.pool, c.strides, c.padding);
  ff::AveragePooling1D layer("average_pooling1d", 1, c.pool, c.strides, c.padding);
  CHECK(layer.class_name() == "AveragePooling1D");
  const int64_t stride = c.strides ? c.strides : c.pool;
  const RefPool g{3, 1, c.steps, 2, 1, c.pool, 1, stride, c.padding};
  LayerCheckSpec spec;
  spec.input_shape = {3, c.steps, 2};
  spec.seed = 5;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, g.aw().out, 2});
  const auto want = ref_pool(g, r.x, false);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(r.y[i] == Approx(want[i]).margin(1e-6));
  require_gradients_match(r);
}
