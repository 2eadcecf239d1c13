// Tests for layers/max_pooling1d.cpp and layers/pooling1d.cpp: values against the naive
// reference (window_reference.h, height 1) and finite-difference gradients (shared helper) for
// valid/same padding, overlapping windows and strides defaulting to the pool size; NaN stays
// NaN; Keras's output lengths; errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/max_pooling1d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

TEST_CASE("MaxPooling1D: values and gradients", "[layers][max_pooling1d][gradient]") {
  struct Case {
    int64_t steps, pool, strides;
    std::string padding;
  };
  const Case c = GENERATE(Case{7, 2, 0, "valid"}, Case{7, 3, 2, "same"}, Case{8, 3, 1, "valid"},
                          Case{5, 5, 0, "same"}, Case{6, 2, 3, "same"});
  CAPTURE(c.steps, c.pool, c.strides, c.padding);
  ff::MaxPooling1D layer("max_pooling1d", 1, c.pool, c.strides, c.padding);
  CHECK(layer.class_name() == "MaxPooling1D");
  const int64_t stride = c.strides ? c.strides : c.pool;
  CHECK(layer.strides() == stride);
  const RefPool g{2, 1, c.steps, 3, 1, c.pool, 1, stride, c.padding};
  LayerCheckSpec spec;
  spec.input_shape = {2, c.steps, 3};
  spec.seed = 31;
  spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>&, double h) {
    return max_windows_separated(g, to_vector(x), h);
  };
  const auto r = check_layer_gradients(layer, spec);
  const int64_t out = g.aw().out;
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, out, 3});
  const auto want = ref_pool(g, r.x, true);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(r.y[i] == Approx(want[i]));
  require_gradients_match(r);
}

TEST_CASE("MaxPooling1D: a NaN in a window gives NaN", "[layers][max_pooling1d][numerics]") {
  ff::MaxPooling1D layer("mp", 1, 2, 0, "valid");
  layer.build({ff::kNone, 4, 1});
  TestContext tc(false);
  std::vector<ff::Tensor> scratch;
  ff::Tensor x = make_tensor({1, 4, 1}, {1.0f, std::numeric_limits<float>::quiet_NaN(), 5.0f, 2.0f});
  ff::Tensor y = ff::Tensor::zeros(device(), {1, 2, 1});
  layer.forward(x, y, scratch, tc.ctx);
  const auto v = to_vector(y);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 5.0f);
}

TEST_CASE("MaxPooling1D: errors", "[layers][max_pooling1d]") {
  CHECK_THROWS_WITH(ff::MaxPooling1D("m", 1, 0, 0, "valid"),
                    Catch::Contains("The `pool_size` argument must be a tuple of 1 integers"));
  CHECK_THROWS_AS(ff::MaxPooling1D("m", 1, 2, 0, "causal"), ff::ValueError);
  ff::MaxPooling1D layer("mp", 1, 4, 0, "valid");
  CHECK_THROWS_WITH(layer.build({ff::kNone, 3, 2}),
                    Catch::Contains("(MaxPooling1D)") &&
                        Catch::Contains("the pool is longer than the unpadded input"));
  ff::MaxPooling1D flat("mp2", 1, 2, 0, "valid");
  CHECK_THROWS_WITH(flat.build({ff::kNone, 3, 2, 2}), Catch::Contains("expected ndim=3"));
}
