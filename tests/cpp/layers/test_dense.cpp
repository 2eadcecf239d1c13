// Tests for layers/dense.cpp: output values against a double-precision reference and finite-
// difference gradients (shared helper) for every activation, with and without bias, on rank-2
// and rank-3 inputs; parameter specs and constructor/build errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/dense.h"
#include "test_util.h"

using namespace fftest;

namespace {

// z = x W (+ b) in double, x of rows x fan_in.
std::vector<double> preactivations(const std::vector<float>& x, const std::vector<float>& w,
                                   const std::vector<float>* b, int64_t rows, int64_t fan_in,
                                   int64_t units) {
  std::vector<double> z(static_cast<size_t>(rows * units), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double s = b ? (*b)[u] : 0.0;
      for (int64_t k = 0; k < fan_in; ++k) s += static_cast<double>(x[r * fan_in + k]) * w[k * units + u];
      z[r * units + u] = s;
    }
  return z;
}

// Accepts data whose pre-activations stay more than a finite-difference step away from 0 (the
// kink of relu and leaky_relu): perturbing x moves z by h|W|, W by h|x|, b by h.
bool away_from_kinks(const ff::Tensor& x, const std::vector<ff::Tensor>& params, double h) {
  const auto xv = to_vector(x), wv = to_vector(params[0]);
  std::vector<float> bv;
  if (params.size() > 1) bv = to_vector(params[1]);
  const int64_t fan_in = params[0].shape()[0], units = params[0].shape()[1];
  double scale = 1.0;
  for (float v : xv) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (float v : wv) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  const auto z = preactivations(xv, wv, params.size() > 1 ? &bv : nullptr, x.numel() / fan_in,
                                fan_in, units);
  for (double v : z)
    if (std::fabs(v) < 2.0 * h * scale) return false;
  return true;
}

// Checks y = act(x W + b) against the reference, to float32 precision.
void check_forward(const LayerCheckResult& r, const std::string& act, bool use_bias,
                   int64_t fan_in, int64_t units) {
  const int64_t rows = static_cast<int64_t>(r.x.size()) / fan_in;
  const auto z = preactivations(r.x, r.params[0], use_bias ? &r.params[1] : nullptr, rows, fan_in,
                                units);
  const auto want = activation_ref(act, z, rows, units);
  REQUIRE(r.y.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("activation " << act << ", element " << i);
    CHECK(r.y[i] == Approx(want[i]).margin(1e-5).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("Dense: every activation, with and without bias, matches reference and gradients",
          "[layers][dense][gradient]") {
  const std::string act = GENERATE(values<std::string>({"linear", "relu", "sigmoid", "tanh",
                                                        "softmax", "leaky_relu", "elu", "gelu",
                                                        "swish"}));
  const bool use_bias = GENERATE(true, false);
  CAPTURE(act, use_bias);
  ff::Dense layer("dense", 17, 5, act, use_bias, "glorot_uniform", "zeros");
  LayerCheckSpec spec;
  spec.input_shape = {3, 4};
  spec.seed = 5;
  spec.accept = away_from_kinks;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(r.output_shape == ff::Shape{3, 5});
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 5});
  REQUIRE(r.dparams.size() == (use_bias ? 2u : 1u));
  check_forward(r, act, use_bias, 4, 5);
  require_gradients_match(r);
}

TEST_CASE("Dense: rank-3 input (N, T, F) is applied over the last axis",
          "[layers][dense][gradient]") {
  const std::string act = GENERATE(values<std::string>({"tanh", "relu", "softmax", "gelu"}));
  CAPTURE(act);
  ff::Dense layer("dense_3d", 3, 5, act, true, "glorot_uniform", "zeros");
  LayerCheckSpec spec;
  spec.input_shape = {2, 3, 4};
  spec.seed = 11;
  spec.accept = away_from_kinks;
  const auto r = check_layer_gradients(layer, spec);
  CHECK(layer.output_shape() == ff::Shape{ff::kNone, 3, 5});
  CHECK(r.output_shape == ff::Shape{2, 3, 5});
  REQUIRE(layer.param_specs().size() == 2);
  CHECK(layer.param_specs()[0].shape == ff::Shape{4, 5});
  check_forward(r, act, true, 4, 5);
  require_gradients_match(r);
}

TEST_CASE("Dense: backward without dx writes the same parameter gradients",
          "[layers][dense]") {
  ff::Backend& be = fftest::backend();
  ff::Dense layer("dense", 1, 3, "gelu", true, "glorot_uniform", "zeros");
  layer.build({2, 4});
  ff::Tensor w = make_tensor({4, 3}, uniform_values(12, 1, -1, 1));
  ff::Tensor b = make_tensor({3}, {0.1f, -0.2f, 0.3f});
  ff::Tensor gw = ff::Tensor::zeros(be.device(), {4, 3}), gb = ff::Tensor::zeros(be.device(), {3});
  layer.bind({w, b}, {gw, gb});
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(2)) scratch.push_back(ff::Tensor::zeros(be.device(), s));
  REQUIRE(scratch.size() == 2);  // dz and the pre-activation gelu's gradient needs
  ff::Tensor x = make_tensor({2, 4}, uniform_values(8, 2, -1, 1));
  ff::Tensor y = ff::Tensor::zeros(be.device(), {2, 3});
  ff::Tensor dy = make_tensor({2, 3}, uniform_values(6, 3, -1, 1));
  fftest::TestContext test_context(true, 0, -1, -1);
  const ff::StepContext& ctx = test_context.ctx;
  layer.forward(x, y, scratch, ctx);
  ff::Tensor dx = ff::Tensor::zeros(be.device(), {2, 4});
  layer.backward(x, y, dy, &dx, scratch, ctx);
  const auto gw1 = to_vector(gw), gb1 = to_vector(gb);
  be.fill(gw.data<float>(), 12, 123.0f);
  be.fill(gb.data<float>(), 3, 123.0f);
  layer.backward(x, y, dy, nullptr, scratch, ctx);
  CHECK(to_vector(gw) == gw1);
  CHECK(to_vector(gb) == gb1);
}

TEST_CASE("Dense: parameter specs and constructor/build errors", "[layers][dense]") {
  ff::Dense d("d", 1, 7, "relu", true, "he_normal", "ones");
  d.build({ff::kNone, 3});
  const auto specs = d.param_specs();
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].name == "kernel");
  CHECK(specs[0].shape == ff::Shape{3, 7});
  CHECK(specs[0].initializer == "he_normal");
  CHECK(specs[1].name == "bias");
  CHECK(specs[1].shape == ff::Shape{7});
  CHECK(specs[1].initializer == "ones");
  CHECK(d.activation().kind == ff::Activation::Relu);

  ff::Dense nb("nb", 1, 2, "silu", false, "glorot_uniform", "zeros");
  nb.build({ff::kNone, 3});
  CHECK(nb.param_specs().size() == 1);
  CHECK(nb.activation().kind == ff::Activation::Swish);
  CHECK(ff::Dense("lin", 1, 2, "", true, "zeros", "zeros").activation().kind ==
        ff::Activation::Linear);

  CHECK_THROWS_AS(ff::Dense("bad", 1, 0, "relu", true, "glorot_uniform", "zeros"), ff::ValueError);
  CHECK_THROWS_WITH(ff::Dense("bad", 1, 4, "relux", true, "glorot_uniform", "zeros"),
                    Catch::Contains("Unknown activation function: 'relux'"));
  CHECK_THROWS_WITH(ff::Dense("bad", 1, 4, "relu", true, "glorot", "zeros"),
                    Catch::Contains("Unknown initializer: 'glorot'"));
  ff::Dense rank1("rank1", 1, 4, "relu", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(rank1.build({8}),
                    Catch::Contains("Input 0 of layer \"rank1\"") && Catch::Contains("min_ndim=2") &&
                        Catch::Contains("found shape=(None,)"));
}

TEST_CASE("Dense: a kernel or output past the size limits fails at build", "[layers][dense][limits]") {
  ff::Dense wide("dense", 1, 65536, "linear", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(wide.build({ff::kNone, 65536}),
                    Catch::Contains("Layer \"dense\" (Dense) on input shape=(None, 65536): weight "
                                    "\"kernel\" shape=(65536, 65536) has 4294967296 elements; the "
                                    "limit is 2147483647 (2^31 - 1) elements"));
  CHECK_FALSE(wide.built());
  ff::Dense units("dense_1", 1, int64_t{1} << 40, "linear", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(units.build({ff::kNone, 1}),
                    Catch::Contains("the output shape=(None, 1099511627776)"));
  ff::Dense rows("dense_2", 1, 1024, "linear", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(rows.build({ff::kNone, 4194304, 2}),
                    Catch::Contains("output shape=(None, 4194304, 1024) has 4294967296"));
}
