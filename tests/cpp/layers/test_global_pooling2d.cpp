// Tests for layers/global_average_pooling2d.cpp and global_max_pooling2d.cpp (the pooling kernels
// with one window over the whole plane): values against direct means and maxima, finite-
// difference gradients (shared helper), keepdims shapes, NaN propagation, the first of tied
// maxima taking the gradient, and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/global_average_pooling2d.h"
#include "layers/global_max_pooling2d.h"
#include "test_util.h"
#include "window_reference.h"

using namespace fftest;

namespace {

// Plane-wide reference: a pooling window as large as the input.
RefPool plane(const ff::Shape& in) { return {in[0], in[1], in[2], in[3], in[1], in[2], 1, 1, "valid"}; }

}  // namespace

TEST_CASE("GlobalAveragePooling2D and GlobalMaxPooling2D: values and gradients",
          "[layers][global_pooling2d][gradient]") {
  const bool keepdims = GENERATE(false, true);
  const ff::Shape in = GENERATE(ff::Shape{2, 3, 4, 3}, ff::Shape{3, 5, 2, 1}, ff::Shape{1, 1, 1, 4},
                                ff::Shape{2, 3, 3, 18});
  CAPTURE(keepdims, in);
  const ff::Shape out_row = keepdims ? ff::Shape{ff::kNone, 1, 1, in[3]} : ff::Shape{ff::kNone, in[3]};
  {
    ff::GlobalAveragePooling2D layer("global_average_pooling2d", 1, keepdims);
    LayerCheckSpec spec;
    spec.input_shape = in;
    spec.seed = 80;
    const auto r = check_layer_gradients(layer, spec);
    CHECK(layer.output_shape() == out_row);
    CHECK(r.output_shape == ff::with_batch(out_row, in[0]));
    const auto want = ref_pool(plane(in), r.x, false);
    REQUIRE(r.y.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) REQUIRE(r.y[i] == Approx(want[i]).margin(1e-6));
    require_gradients_match(r);
  }
  {
    ff::GlobalMaxPooling2D layer("global_max_pooling2d", 1, keepdims);
    LayerCheckSpec spec;
    spec.input_shape = in;
    spec.seed = 81;
    spec.options.step = 1e-4;  // the output is one of the inputs: no precision lost
    spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>&, double h) {
      return max_windows_separated(plane(in), to_vector(x), h);
    };
    const auto r = check_layer_gradients(layer, spec);
    CHECK(layer.output_shape() == out_row);
    const auto want = ref_pool(plane(in), r.x, true);
    REQUIRE(r.y.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) REQUIRE(r.y[i] == static_cast<float>(want[i]));
    require_gradients_match(r);
  }
}

TEST_CASE("Global pooling: NaN propagates per channel, ties send the gradient to the first max",
          "[layers][global_pooling2d][numerics]") {
  ff::Backend& be = fftest::backend();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // (2, 2, 2, 2): sample 0 has a NaN in channel 1 at its last position; sample 1 has ties.
  const std::vector<float> xv = {1, 2, 3, 4, 5, 6, 0, nan,
                                 7, 1, 7, 1, 2, 1, 7, 0};
  ff::Tensor x = make_tensor({2, 2, 2, 2}, xv);
  std::vector<ff::Tensor> scratch;
  fftest::TestContext test_context(true, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  ff::Tensor dy = make_tensor({2, 2}, {1, 2, 3, 4});

  ff::GlobalMaxPooling2D gmax("global_max_pooling2d", 1, false);
  gmax.build({2, 2, 2, 2});
  ff::Tensor y = ff::Tensor::zeros(be.device(), {2, 2});
  gmax.forward(x, y, scratch, ctx);
  auto yv = to_vector(y);
  CHECK(yv[0] == 5.0f);
  CHECK(std::isnan(yv[1]));
  CHECK(yv[2] == 7.0f);
  CHECK(yv[3] == 1.0f);
  ff::Tensor dx = ff::Tensor::zeros(be.device(), {2, 2, 2, 2});
  gmax.backward(x, y, dy, &dx, scratch, ctx);
  CHECK(to_vector(dx) == std::vector<float>{0, 0, 0, 0, 1, 0, 0, 2,
                                            3, 4, 0, 0, 0, 0, 0, 0});

  ff::GlobalAveragePooling2D gavg("global_average_pooling2d", 1, true);
  CHECK(gavg.build({2, 2, 2, 2}) == ff::Shape{ff::kNone, 1, 1, 2});
  ff::Tensor ya = ff::Tensor::zeros(be.device(), {2, 1, 1, 2});
  gavg.forward(x, ya, scratch, ctx);
  yv = to_vector(ya);
  CHECK(yv[0] == 2.25f);
  CHECK(std::isnan(yv[1]));
  CHECK(yv[2] == 5.75f);
  CHECK(yv[3] == 0.75f);
}

TEST_CASE("Global pooling: rank and unknown-dimension errors", "[layers][global_pooling2d]") {
  ff::GlobalAveragePooling2D a("global_average_pooling2d", 1, false);
  CHECK_THROWS_WITH(a.build({ff::kNone, 10, 3}),
                    Catch::Contains("Input 0 of layer \"global_average_pooling2d\" (GlobalAveragePooling2D)") &&
                        Catch::Contains("expected ndim=4") && Catch::Contains("found shape=(None, 10, 3)"));
  ff::GlobalMaxPooling2D m("global_max_pooling2d", 1, false);
  CHECK_THROWS_WITH(m.build({ff::kNone, ff::kNone, 4, 3}),
                    Catch::Contains("(GlobalMaxPooling2D)") &&
                        Catch::Contains("known height, width and channels"));
  CHECK(m.build({ff::kNone, 6, 4, 3}) == ff::Shape{ff::kNone, 3});
}
