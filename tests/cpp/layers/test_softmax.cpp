// Tests for layers/softmax.cpp: the Softmax layer equals a double-precision softmax along the
// last axis (rank 2 and 3), its finite-difference gradient (shared helper), float32 output under
// mixed precision, large logits, and the errors for an axis other than the last.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/softmax.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Softmax layer: the softmax along the last axis and its gradient",
          "[layers][softmax][gradient]") {
  const int64_t axis = GENERATE(-1, 2);
  ff::Softmax layer("softmax", 1, axis);
  CHECK(layer.class_name() == "Softmax");
  CHECK(layer.float32_output());  // probabilities stay float32 under mixed precision
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 5};
  spec.seed = 7;
  spec.input_max = 3.0f;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 3, 5});
  const std::vector<double> x(r.x.begin(), r.x.end());
  const auto want = activation_ref("softmax", x, 6, 5);
  for (size_t i = 0; i < want.size(); ++i) CHECK(r.y[i] == Approx(want[i]).margin(1e-7).epsilon(1e-5));
  require_gradients_match(r);
}

TEST_CASE("Softmax layer: large logits stay finite", "[layers][softmax]") {
  ff::Softmax layer("softmax", 1, -1);
  layer.build({ff::kNone, 3});
  TestContext tc(false);
  std::vector<ff::Tensor> scratch;
  ff::Tensor x = make_tensor({1, 3}, {1000.0f, 999.0f, -1000.0f});
  ff::Tensor y = ff::Tensor::zeros(device(), {1, 3});
  layer.forward(x, y, scratch, tc.ctx);
  const auto v = to_vector(y);
  CHECK(v[0] == Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  CHECK(v[2] == 0.0f);
}

TEST_CASE("Softmax layer: an axis other than the last is refused at build", "[layers][softmax]") {
  ff::Softmax layer("sm", 1, 1);
  CHECK_THROWS_WITH(layer.build({ff::kNone, 3, 4}),
                    Catch::Contains("Layer \"sm\" (Softmax): only the last axis is supported") &&
                        Catch::Contains("axis=-1 or 2") && Catch::Contains("received axis=1"));
  ff::Softmax ok("sm2", 1, 1);
  CHECK(ok.build({ff::kNone, 4}) == ff::Shape{ff::kNone, 4});  // 1 is the last axis of rank 2
}
