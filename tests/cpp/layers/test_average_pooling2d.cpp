// Tests for layers/average_pooling2d.cpp and the CPU average-pool kernels: values against a
// naive reference (same padding divides by the real elements of each window, as TF/Keras) and
// finite-difference gradients (shared helper) over several geometries; NaN propagation; Keras's
// output shapes; errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/average_pooling2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

TEST_CASE("AveragePooling2D: forward matches the reference and gradients match finite differences",
          "[layers][average_pooling2d][gradient]") {
  struct Case {
    ff::Shape input;
    std::vector<int64_t> pool, strides;
    std::string padding;
  };
  const std::vector<Case> cases = {
      {{2, 4, 6, 3}, {2, 2}, {2, 2}, "valid"},
      {{2, 5, 5, 2}, {2, 2}, {2, 2}, "same"},
      {{1, 7, 6, 2}, {3, 3}, {2, 2}, "same"},   // overlapping, cut at both borders
      {{2, 6, 7, 1}, {3, 2}, {1, 2}, "valid"},
      {{3, 5, 4, 2}, {4, 3}, {1, 1}, "same"},
  };
  const size_t idx = GENERATE(range<size_t>(0, 5));
  const Case& c = cases[idx];
  CAPTURE(idx, c.input, c.pool, c.strides, c.padding);
  ff::AveragePooling2D layer("average_pooling2d", 1, c.pool, c.strides, c.padding);
  LayerCheckSpec spec;
  spec.input_shape = c.input;
  spec.seed = 70 + idx;
  const auto r = check_layer_gradients(layer, spec);
  const RefPool g{c.input[0], c.input[1], c.input[2], c.input[3], c.pool[0], c.pool[1],
                  c.strides[0], c.strides[1], c.padding};
  CHECK(r.output_shape == ff::Shape{c.input[0], g.ah().out, g.aw().out, c.input[3]});
  const auto want = ref_pool(g, r.x, false);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(r.y[i] == Approx(want[i]).margin(1e-6));
  require_gradients_match(r);
}

TEST_CASE("AveragePooling2D: same padding averages only the real elements",
          "[layers][average_pooling2d]") {
  ff::Backend& be = fftest::backend();
  // 3x3 input, 2x2 pool, stride 2, same: windows of 4, 2, 2 and 1 real elements.
  ff::AveragePooling2D layer("average_pooling2d", 1, {2, 2}, {}, "same");
  CHECK(layer.build({1, 3, 3, 1}) == ff::Shape{ff::kNone, 2, 2, 1});
  ff::Tensor x = make_tensor({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  ff::Tensor y = ff::Tensor::zeros(be.device(), {1, 2, 2, 1});
  std::vector<ff::Tensor> scratch;
  fftest::TestContext test_context(true, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  layer.forward(x, y, scratch, ctx);
  CHECK(to_vector(y) == std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f});
  ff::Tensor dy = make_tensor({1, 2, 2, 1}, {4, 2, 6, 1});
  ff::Tensor dx = ff::Tensor::zeros(be.device(), {1, 3, 3, 1});
  layer.backward(x, y, dy, &dx, scratch, ctx);
  CHECK(to_vector(dx) == std::vector<float>{1, 1, 1, 1, 1, 1, 3, 3, 1});
}

TEST_CASE("AveragePooling2D: NaN in a window gives NaN for that window only",
          "[layers][average_pooling2d][numerics]") {
  ff::Backend& be = fftest::backend();
  ff::AveragePooling2D layer("average_pooling2d", 1, {2, 2}, {}, "valid");
  layer.build({1, 4, 4, 2});
  auto xv = uniform_values(32, 9, -1, 1);
  xv[(1 * 4 + 3) * 2 + 0] = std::numeric_limits<float>::quiet_NaN();  // window (0, 1), channel 0
  ff::Tensor x = make_tensor({1, 4, 4, 2}, xv);
  ff::Tensor y = ff::Tensor::zeros(be.device(), {1, 2, 2, 2});
  std::vector<ff::Tensor> scratch;
  fftest::TestContext test_context(false, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  layer.forward(x, y, scratch, ctx);
  const auto yv = to_vector(y);
  for (int i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(std::isnan(yv[i]) == (i == 2));  // (oh 0, ow 1, c 0)
  }
}

TEST_CASE("AveragePooling2D: output shapes and errors", "[layers][average_pooling2d]") {
  ff::AveragePooling2D a("average_pooling2d", 1, {2, 2}, {}, "valid");
  CHECK(a.build({ff::kNone, 7, 9, 3}) == ff::Shape{ff::kNone, 3, 4, 3});
  ff::AveragePooling2D b("average_pooling2d_1", 1, {3, 3}, {2, 1}, "same");
  CHECK(b.build({ff::kNone, 7, 9, 3}) == ff::Shape{ff::kNone, 4, 9, 3});
  ff::AveragePooling2D rank("average_pooling2d_2", 1, {2, 2}, {}, "valid");
  CHECK_THROWS_WITH(rank.build({ff::kNone, 7, 9, 3, 1}),
                    Catch::Contains("(AveragePooling2D)") && Catch::Contains("expected ndim=4"));
  ff::AveragePooling2D big("average_pooling2d_3", 1, {4, 1}, {}, "valid");
  CHECK_THROWS_WITH(big.build({ff::kNone, 3, 9, 3}),
                    Catch::Contains("pool is larger than the unpadded input"));
}
