// Tests for layers/relu.cpp and the relu_forward/backward kernels: Keras's ReLU with max_value,
// negative_slope and threshold against a double reference of Keras's definition, the plain
// ReLU (defaults) giving the same bits as Activation("relu"), finite-difference gradients away
// from the kinks (shared helper), NaN and -Inf, and Keras's argument errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/activation_layer.h"
#include "layers/relu.h"
#include "test_util.h"

using namespace fftest;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Keras 3's ReLU.static_call in double: relu(x) (x * (x > threshold) with a threshold), clipped
// to [0, max_value], minus negative_slope * relu(threshold - x).
double relu_ref(double x, double max_value, double slope, double threshold) {
  double y = threshold != 0 ? (x > threshold ? x : 0.0) : (x > 0 ? x : 0.0);
  if (!std::isinf(max_value)) y = std::min(std::max(y, 0.0), max_value);
  if (slope != 0) y -= slope * std::max(threshold - x, 0.0);
  return y;
}

}  // namespace

TEST_CASE("ReLU layer: Keras's options forward and their gradients", "[layers][relu][gradient]") {
  struct Case {
    float max_value, slope, threshold;
  };
  const Case c = GENERATE(Case{kInf, 0.0f, 0.0f}, Case{6.0f, 0.0f, 0.0f}, Case{1.5f, 0.0f, 0.0f},
                          Case{kInf, 0.1f, 0.0f}, Case{kInf, 0.0f, 0.5f}, Case{1.5f, 0.2f, 0.5f},
                          Case{0.0f, 0.3f, 0.0f});
  CAPTURE(c.max_value, c.slope, c.threshold);
  ff::ReLU layer("re_lu", 1, c.max_value, c.slope, c.threshold);
  CHECK(layer.class_name() == "ReLU");
  LayerCheckSpec spec;
  spec.input_shape = {4, 7};
  spec.seed = 3;
  spec.input_min = 0.05f;
  spec.input_max = 2.5f;
  spec.accept = [&](const ff::Tensor& x, const std::vector<ff::Tensor>&, double h) {
    for (float v : to_vector(x))
      for (float kink : {0.0f, c.threshold, c.max_value})
        if (std::fabs(v - kink) < 3 * h) return false;
    return true;
  };
  const auto r = check_layer_gradients(layer, spec);
  CHECK(r.output_shape == ff::Shape{4, 7});
  for (size_t i = 0; i < r.x.size(); ++i)
    CHECK(r.y[i] == Approx(relu_ref(r.x[i], c.max_value, c.slope, c.threshold)).margin(1e-7));
  // The clipped and flat parts have a zero gradient; the rest must not be trivially zero.
  require_gradients_match(r);
}

TEST_CASE("ReLU layer: the defaults give Activation(\"relu\")'s bits", "[layers][relu]") {
  ff::ReLU relu("re_lu", 1, kInf, 0.0f, 0.0f);
  ff::ActivationLayer act("activation", 1, "relu");
  relu.build({ff::kNone, 9});
  act.build({ff::kNone, 9});
  TestContext tc(true);
  std::vector<ff::Tensor> scratch;
  const auto values = signed_values(27, 5, 0.0f, 3.0f);
  ff::Tensor x = make_tensor({3, 9}, values);
  ff::Tensor y1 = ff::Tensor::zeros(device(), {3, 9}), y2 = ff::Tensor::zeros(device(), {3, 9});
  relu.forward(x, y1, scratch, tc.ctx);
  act.forward(x, y2, scratch, tc.ctx);
  CHECK(to_vector(y1) == to_vector(y2));
}

TEST_CASE("ReLU layer: NaN stays NaN and -Inf gives 0 or -Inf and Inf is clipped",
          "[layers][relu][numerics]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  TestContext tc(false);
  std::vector<ff::Tensor> scratch;
  ff::Tensor x = make_tensor({1, 3}, {nan, -kInf, kInf});
  ff::Tensor y = ff::Tensor::zeros(device(), {1, 3});
  ff::ReLU clipped("r1", 1, 6.0f, 0.0f, 1.0f);
  clipped.build({ff::kNone, 3});
  clipped.forward(x, y, scratch, tc.ctx);
  auto v = to_vector(y);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 0.0f);  // not 0 * -Inf
  CHECK(v[2] == 6.0f);
  ff::ReLU leaky("r2", 1, kInf, 0.5f, 0.0f);
  leaky.build({ff::kNone, 3});
  leaky.forward(x, y, scratch, tc.ctx);
  v = to_vector(y);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == -kInf);
  CHECK(v[2] == kInf);
}

TEST_CASE("ReLU layer: Keras's errors for negative or non-finite options", "[layers][relu]") {
  CHECK_THROWS_WITH(ff::ReLU("r", 1, -1.0f, 0.0f, 0.0f),
                    Catch::Contains("max_value of a ReLU layer cannot be a negative value"));
  CHECK_THROWS_WITH(ff::ReLU("r", 1, kInf, -0.1f, 0.0f),
                    Catch::Contains("negative_slope of a ReLU layer cannot be a negative value"));
  CHECK_THROWS_WITH(ff::ReLU("r", 1, kInf, 0.0f, -2.0f),
                    Catch::Contains("threshold of a ReLU layer cannot be a negative value"));
  CHECK_THROWS_AS(ff::ReLU("r", 1, std::nanf(""), 0.0f, 0.0f), ff::ValueError);
  CHECK_THROWS_AS(ff::ReLU("r", 1, kInf, kInf, 0.0f), ff::ValueError);
}
