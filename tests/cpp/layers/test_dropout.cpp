// Tests for layers/dropout.cpp: in training the dropped fraction is ~rate and kept values are
// scaled by 1/(1-rate); the mask follows Philox uniform(seed, step, i) >= rate, is the same in
// forward and backward for one step and differs for another; inference is the identity (the
// output aliases the input); gradient check at a fixed step (shared helper).
#include <catch2/catch.hpp>

#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "gradient_check.h"
#include "layers/dropout.h"
#include "test_util.h"

using namespace fftest;

namespace {

struct Run {
  std::vector<float> y, dx;
};

Run run(ff::Dropout& layer, const ff::Tensor& x, uint64_t step) {
  ff::Backend& be = fftest::backend();
  fftest::TestContext context(true, step, 0, 0);
  const ff::StepContext& ctx = context.ctx;
  std::vector<ff::Tensor> scratch;
  ff::Tensor y = ff::Tensor::zeros(be.device(), x.shape());
  layer.forward(x, y, scratch, ctx);
  ff::Tensor dy = ff::Tensor::zeros(be.device(), x.shape());
  be.fill(dy.data<float>(), dy.numel(), 1.0f);
  ff::Tensor dx = ff::Tensor::zeros(be.device(), x.shape());
  layer.backward(x, y, dy, &dx, scratch, ctx);
  return {to_vector(y), to_vector(dx)};
}

}  // namespace

TEST_CASE("Dropout: training drops ~rate and scales the rest by 1/(1-rate)", "[layers][dropout]") {
  const float rate = GENERATE(0.1f, 0.3f, 0.5f);
  CAPTURE(rate);
  ff::Dropout layer("dropout", 1234, rate);
  layer.build({100, 100});
  const auto xv = signed_values(10000, 3, 0.5f, 2.0f);
  ff::Tensor x = make_tensor({100, 100}, xv);
  const Run r = run(layer, x, 5);
  const float scale = 1.0f / (1.0f - rate);
  int64_t dropped = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const bool keep = ff::Philox::uniform(1234, 5, i) >= rate;  // the documented mask
    if (r.y[i] == 0.0f) ++dropped;
    if (keep) {
      REQUIRE(r.y[i] == Approx(xv[i] * scale).epsilon(1e-6));
    } else {
      REQUIRE(r.y[i] == 0.0f);
    }
  }
  const double frac = static_cast<double>(dropped) / 10000.0;
  // Binomial(10000, rate): the standard deviation of the fraction is <= 0.005.
  CHECK(frac == Approx(rate).margin(0.02));
}

TEST_CASE("Dropout: same mask forward and backward for one step, another for another step",
          "[layers][dropout]") {
  ff::Dropout layer("dropout", 99, 0.4f);
  layer.build({8, 64});
  ff::Tensor x = make_tensor({8, 64}, signed_values(512, 8, 0.5f, 1.5f));
  const Run a = run(layer, x, 3);
  const Run again = run(layer, x, 3);
  const Run b = run(layer, x, 4);
  CHECK(a.y == again.y);
  CHECK(a.dx == again.dx);
  int64_t differ = 0;
  for (size_t i = 0; i < a.y.size(); ++i) {
    // dy = 1: dx is the mask times 1/(1-rate); y is zero exactly where dx is.
    REQUIRE((a.y[i] == 0.0f) == (a.dx[i] == 0.0f));
    if (a.dx[i] != 0.0f) REQUIRE(a.dx[i] == Approx(1.0f / 0.6f));
    differ += (a.dx[i] == 0.0f) != (b.dx[i] == 0.0f);
  }
  // Two independent masks of rate 0.4 differ at ~48% of 512 positions.
  CHECK(differ > 150);

  // Another layer seed gives another mask at the same step.
  ff::Dropout other("dropout_1", 100, 0.4f);
  other.build({8, 64});
  CHECK(run(other, x, 3).y != a.y);
}

TEST_CASE("Dropout: identity at inference (the output aliases the input)", "[layers][dropout]") {
  ff::Dropout layer("dropout", 1, 0.5f);
  CHECK(layer.aliases_input(false));
  CHECK_FALSE(layer.aliases_input(true));
  ff::Dropout none("dropout_0", 1, 0.0f);
  CHECK(none.aliases_input(true));  // rate 0 never drops
  CHECK(none.aliases_input(false));
  CHECK(layer.build({ff::kNone, 3, 4}) == ff::Shape{ff::kNone, 3, 4});
}

TEST_CASE("Dropout: invalid rates raise", "[layers][dropout]") {
  CHECK_THROWS_AS(ff::Dropout("d", 1, 1.0f), ff::ValueError);
  CHECK_THROWS_AS(ff::Dropout("d", 1, -0.1f), ff::ValueError);
  CHECK_THROWS_WITH(ff::Dropout("d", 1, 1.5f), Catch::Contains("rate"));
}

TEST_CASE("Dropout: gradient check in training at a fixed step", "[layers][dropout][gradient]") {
  ff::Dropout layer("dropout", 77, 0.3f);
  LayerCheckSpec spec;
  spec.input_shape = {4, 8};
  spec.training = true;
  spec.step = 12;
  const auto r = check_layer_gradients(layer, spec);
  int64_t zeros = 0;
  for (float v : r.y) zeros += v == 0.0f;
  CHECK(zeros > 0);  // the check really ran with a mask
  CHECK(zeros < 32);
  require_gradients_match(r);
}
