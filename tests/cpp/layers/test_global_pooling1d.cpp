// Tests for layers/global_average_pooling1d.cpp and global_max_pooling1d.cpp: the mean and the
// maximum over the steps against direct loops, keepdims shapes, finite-difference gradients
// (shared helper), and the rank error.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/global_average_pooling1d.h"
#include "layers/global_max_pooling1d.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("GlobalAveragePooling1D and GlobalMaxPooling1D: values and shapes and gradients",
          "[layers][global_pooling1d][gradient]") {
  const bool keepdims = GENERATE(false, true);
  const bool max = GENERATE(false, true);
  CAPTURE(keepdims, max);
  std::unique_ptr<ff::Layer> layer;
  if (max)
    layer = std::make_unique<ff::GlobalMaxPooling1D>("gmp", 1, keepdims);
  else
    layer = std::make_unique<ff::GlobalAveragePooling1D>("gap", 1, keepdims);
  CHECK(layer->class_name() == (max ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D"));
  LayerCheckSpec spec;
  spec.input_shape = {3, 6, 4};
  spec.seed = 2;
  spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>&, double h) {
    if (!max) return true;
    const auto v = to_vector(x);  // the largest value of each (sample, channel) stands out
    for (int n = 0; n < 3; ++n)
      for (int c = 0; c < 4; ++c) {
        std::vector<float> col;
        for (int t = 0; t < 6; ++t) col.push_back(v[(n * 6 + t) * 4 + c]);
        std::sort(col.rbegin(), col.rend());
        if (col[0] - col[1] <= 2 * h) return false;
      }
    return true;
  };
  const auto r = check_layer_gradients(*layer, spec);
  CHECK(layer->output_shape() ==
        (keepdims ? ff::Shape{ff::kNone, 1, 4} : ff::Shape{ff::kNone, 4}));
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 4; ++c) {
      double s = 0, m = -1e30;
      for (int t = 0; t < 6; ++t) {
        s += r.x[(n * 6 + t) * 4 + c];
        m = std::max<double>(m, r.x[(n * 6 + t) * 4 + c]);
      }
      CHECK(r.y[n * 4 + c] == Approx(max ? m : s / 6).margin(1e-6));
    }
  require_gradients_match(r);
}

TEST_CASE("GlobalAveragePooling1D: rank error", "[layers][global_pooling1d]") {
  ff::GlobalAveragePooling1D layer("gap", 1, false);
  CHECK_THROWS_WITH(layer.build({ff::kNone, 4, 4, 2}),
                    Catch::Contains("(GlobalAveragePooling1D)") && Catch::Contains("ndim=3"));
}
