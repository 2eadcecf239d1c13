// Tests for layers/activation_layer.cpp and activations.cpp: each Keras activation applied by
// ActivationLayer against a double-precision reference, its finite-difference gradient (shared
// helper), softmax along the last axis of a rank-3 input, and name parsing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/activation_layer.h"
#include "test_util.h"

using namespace fftest;

namespace {

void check_against_reference(const LayerCheckResult& r, const std::string& act, int64_t cols) {
  std::vector<double> x(r.x.begin(), r.x.end());
  const auto want = activation_ref(act, x, static_cast<int64_t>(x.size()) / cols, cols);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("activation " << act << ", element " << i << ", x=" << x[i]);
    CHECK(r.y[i] == Approx(want[i]).margin(1e-6).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("ActivationLayer: every activation matches its reference and gradient",
          "[layers][activation][gradient]") {
  const std::string act = GENERATE(values<std::string>({"linear", "relu", "sigmoid", "tanh",
                                                        "softmax", "leaky_relu", "elu", "gelu",
                                                        "swish", "silu"}));
  CAPTURE(act);
  ff::ActivationLayer layer("act", 1, act);
  CHECK(layer.class_name() == "Activation");
  LayerCheckSpec spec;
  spec.input_shape = {4, 6};
  spec.seed = 21;
  spec.input_min = 0.1f;  // inputs at least 10 steps from the relu-family kink at 0
  spec.input_max = 2.5f;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 6});
  CHECK(layer.param_specs().empty());
  CHECK(r.dparams.empty());
  check_against_reference(r, act, 6);
  require_gradients_match(r);
}

TEST_CASE("ActivationLayer: softmax is taken along the last axis of a rank-3 input",
          "[layers][activation][gradient]") {
  ff::ActivationLayer layer("softmax", 1, "softmax");
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 5};
  spec.seed = 4;
  spec.input_max = 3.0f;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(r.output_shape == ff::Shape{2, 3, 5});
  for (int row = 0; row < 6; ++row) {
    double s = 0;
    for (int c = 0; c < 5; ++c) s += r.y[row * 5 + c];
    CHECK(s == Approx(1.0).epsilon(1e-6));
  }
  check_against_reference(r, "softmax", 5);
  require_gradients_match(r);
}

TEST_CASE("ActivationLayer: large logits do not overflow softmax or sigmoid", "[layers][activation]") {
  ff::Backend& be = fftest::backend();
  fftest::TestContext test_context(false, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  std::vector<ff::Tensor> scratch;
  ff::ActivationLayer sm("sm", 1, "softmax");
  sm.build({1, 3});
  ff::Tensor x = make_tensor({1, 3}, {1000.0f, 999.0f, -1000.0f});
  ff::Tensor y = ff::Tensor::zeros(be.device(), {1, 3});
  sm.forward(x, y, scratch, ctx);
  const auto v = to_vector(y);
  CHECK(v[0] == Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  CHECK(v[1] == Approx(std::exp(-1.0) / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  CHECK(v[2] == 0.0f);

  ff::ActivationLayer sg("sg", 1, "sigmoid");
  sg.build({1, 3});
  ff::Tensor x2 = make_tensor({1, 3}, {-200.0f, 0.0f, 200.0f});
  sg.forward(x2, y, scratch, ctx);
  CHECK(to_vector(y) == std::vector<float>{0.0f, 0.5f, 1.0f});
}

TEST_CASE("Activation names parse as Keras spells them", "[layers][activation]") {
  CHECK(ff::parse_activation("leaky_relu").alpha == Approx(0.2f));  // Keras 3 negative_slope
  CHECK(ff::parse_activation("elu").alpha == Approx(1.0f));
  CHECK(ff::parse_activation("silu").kind == ff::Activation::Swish);
  CHECK(ff::parse_activation("None").kind == ff::Activation::Linear);
  CHECK(ff::parse_activation("").name == "linear");
  CHECK(ff::activation_needs_input(ff::Activation::Gelu));
  CHECK(ff::activation_needs_input(ff::Activation::Swish));
  CHECK_FALSE(ff::activation_needs_input(ff::Activation::Relu));
  CHECK_THROWS_AS(ff::ActivationLayer("a", 1, "Relu"), ff::ValueError);
  CHECK_THROWS_WITH(ff::parse_activation("softplus"),
                    Catch::Contains("Unknown activation function: 'softplus'") &&
                        Catch::Contains("gelu"));
}
