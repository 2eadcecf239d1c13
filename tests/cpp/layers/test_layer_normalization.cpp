// Tests for layers/layer_normalization.cpp and the layer_norm kernels: weights gamma, beta in
// Keras's order and shape (float32 under mixed precision: autocast off), the forward pass against
// a double reference (each row's own mean and biased variance over the trailing axes), finite-
// difference gradients for x, gamma and beta (shared helper) over one and several trailing axes,
// with center/scale off, the same bits for any thread count over several row chunks, the same
// output in training and inference, NaN staying in its row, and the axis errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/layer_normalization.h"
#include "test_util.h"

using namespace fftest;

namespace {

ff::LayerNormalization make_ln(std::vector<int64_t> axes, bool center = true, bool scale = true,
                               float epsilon = 1e-3f) {
  return ff::LayerNormalization("layer_normalization", 1, std::move(axes), epsilon, center, scale,
                                "zeros", "ones");
}

// y of rows x cols values normalised per row, in double.
std::vector<double> ln_ref(const std::vector<float>& x, int64_t cols, const float* gamma,
                           const float* beta, double epsilon) {
  const int64_t rows = static_cast<int64_t>(x.size()) / cols;
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t c = 0; c < cols; ++c) m += x[r * cols + c];
    m /= cols;
    for (int64_t c = 0; c < cols; ++c) v += (x[r * cols + c] - m) * (x[r * cols + c] - m);
    v /= cols;
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = (x[r * cols + c] - m) / std::sqrt(v + epsilon) * (gamma ? gamma[c] : 1.0) +
                        (beta ? beta[c] : 0.0);
  }
  return y;
}

}  // namespace

TEST_CASE("LayerNormalization: weights and values and gradients over trailing axes",
          "[layers][layer_normalization][gradient]") {
  struct Case {
    std::vector<int64_t> axes;
    ff::Shape input, param;
    int64_t cols;
    bool center, scale;
  };
  const Case c = GENERATE(Case{{-1}, {3, 4, 5}, {5}, 5, true, true},
                          Case{{1, 2}, {2, 3, 4}, {3, 4}, 12, true, true},
                          Case{{-2, -1}, {2, 3, 4}, {3, 4}, 12, false, true},
                          Case{{1}, {4, 6}, {6}, 6, true, false},
                          Case{{-1}, {4, 40}, {40}, 40, false, false});
  CAPTURE(ff::shape_str(c.input), c.center, c.scale);
  auto layer = make_ln(c.axes, c.center, c.scale);
  CHECK(layer.class_name() == "LayerNormalization");
  LayerCheckSpec spec;
  spec.input_shape = c.input;
  spec.seed = 19;
  spec.param_scale = 1.0f;
  const auto r = check_layer_gradients(layer, spec);
  const auto specs = layer.param_specs();
  REQUIRE(specs.size() == static_cast<size_t>(c.center) + c.scale);
  size_t k = 0;
  if (c.scale) {
    CHECK(specs[k].name == "gamma");
    CHECK(specs[k].initializer == "ones");
    CHECK(specs[k].shape == c.param);
    CHECK_FALSE(specs[k++].autocast);  // float32 under mixed precision
  }
  if (c.center) {
    CHECK(specs[k].name == "beta");
    CHECK(specs[k].shape == c.param);
    CHECK_FALSE(specs[k].autocast);
  }
  const float* gamma = c.scale ? r.params[0].data() : nullptr;
  const float* beta = c.center ? r.params[c.scale ? 1 : 0].data() : nullptr;
  const auto want = ln_ref(r.x, c.cols, gamma, beta, 1e-3);
  for (size_t i = 0; i < want.size(); ++i) CHECK(r.y[i] == Approx(want[i]).margin(1e-5));
  require_gradients_match(r);
}

TEST_CASE("LayerNormalization: same bits for any thread count in training or not",
          "[layers][layer_normalization]") {
  // 300 rows of 700 values: several gamma/beta chunks (11 rows each) and many 32-lane rows.
  auto layer = make_ln({-1});
  const ff::Shape shape{30, 10, 700};
  layer.build(shape);
  const int64_t n = 30 * 10 * 700;
  const auto xv = uniform_values(n, 1, -2.0f, 3.0f), dyv = uniform_values(n, 2, -1.0f, 1.0f);
  const auto gv = uniform_values(700, 3, 0.5f, 1.5f), bv = uniform_values(700, 4, -1.0f, 1.0f);
  auto run = [&](bool training) {
    ff::Tensor x = make_tensor(shape, xv), dy = make_tensor(shape, dyv);
    ff::Tensor gamma = make_tensor({700}, gv), beta = make_tensor({700}, bv);
    ff::Tensor dg = ff::Tensor::zeros(device(), {700}), db = ff::Tensor::zeros(device(), {700});
    ff::Tensor y = ff::Tensor::zeros(device(), shape), dx = ff::Tensor::zeros(device(), shape);
    layer.bind({gamma, beta}, {dg, db});
    std::vector<ff::Tensor> scratch;
    for (const auto& s : layer.scratch_shapes(30)) scratch.push_back(ff::Tensor::zeros(device(), s));
    TestContext tc(training);
    layer.forward(x, y, scratch, tc.ctx);
    layer.backward(x, y, dy, &dx, scratch, tc.ctx);
    std::vector<float> out;
    for (const auto* t : {&y, &dx, &dg, &db}) {
      const auto v = to_vector(*t);
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  const auto one = with_threads(1, [&] { return run(true); });
  const auto many = with_threads(4, [&] { return run(true); });
  const auto inference = with_threads(2, [&] { return run(false); });
  CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(one.data(), inference.data(), one.size() * sizeof(float)) == 0);
  // dbeta is the column sum of dy, dgamma the column sum of dy * xhat.
  double db0 = 0;
  for (int64_t r = 0; r < 300; ++r) db0 += dyv[r * 700];
  CHECK(one[2 * n + 700] == Approx(db0).epsilon(1e-5));
  const auto want = ln_ref(xv, 700, gv.data(), bv.data(), 1e-3);
  for (int64_t i = 0; i < n; i += 997) CHECK(one[i] == Approx(want[i]).margin(1e-5));
}

TEST_CASE("LayerNormalization: a NaN stays in its own row", "[layers][layer_normalization]") {
  auto layer = make_ln({-1}, false, false);
  layer.build({ff::kNone, 3});
  std::vector<ff::Tensor> scratch{ff::Tensor::zeros(device(), {2, 2})};
  TestContext tc(false);
  ff::Tensor x = make_tensor({2, 3}, {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f,
                                      1.0f, 2.0f, 3.0f});
  ff::Tensor y = ff::Tensor::zeros(device(), {2, 3});
  layer.forward(x, y, scratch, tc.ctx);
  const auto v = to_vector(y);
  for (int c = 0; c < 3; ++c) CHECK(std::isnan(v[c]));
  CHECK(v[3] == Approx(-1.0 / std::sqrt(2.0 / 3 + 1e-3)).epsilon(1e-5));
  CHECK(v[4] == 0.0f);
}

TEST_CASE("LayerNormalization: axis and argument errors", "[layers][layer_normalization]") {
  auto inner = make_ln({1});
  CHECK_THROWS_WITH(inner.build({ff::kNone, 3, 4}),
                    Catch::Contains("only the trailing axes can be normalised") &&
                        Catch::Contains("received axis=1"));
  auto batch = make_ln({0});
  CHECK_THROWS_WITH(batch.build({ff::kNone, 4}),
                    Catch::Contains("(the batch axis 0 cannot be normalised)"));
  auto far = make_ln({-3});
  CHECK_THROWS_WITH(far.build({ff::kNone, 4}), Catch::Contains("out of range"));
  auto twice = make_ln({-1, 2});
  CHECK_THROWS_WITH(twice.build({ff::kNone, 3, 4}), Catch::Contains("names axis 2 twice"));
  CHECK_THROWS_AS(make_ln({-1}, true, true, 0.0f), ff::ValueError);
  CHECK_THROWS_AS(make_ln({}), ff::ValueError);
}
