// Tests for layers/normalization.cpp: y = (x - mean) / max(sqrt(var), 1e-7) and its inverse
// against a reference, statistics set before the weights exist (written at bind) and after
// (written at once), a single value broadcast to every feature, axis=None, feature-count and
// value checks, the un-adapted error (unless a model wrote the weights), a second bind not
// resetting the weights, and the dx gradient through the shared helper.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/normalization.h"
#include "test_util.h"

using namespace fftest;

namespace {

struct Bound {
  std::vector<ff::Tensor> params, grads;
};

// As a model does: weights at their initializers (mean 0, variance 1), no gradients.
Bound bind_like_model(ff::Normalization& layer) {
  Bound b;
  for (const auto& s : layer.param_specs()) {
    REQUIRE_FALSE(s.trainable);
    ff::Tensor t = ff::Tensor::zeros(fftest::device(), s.shape);
    if (s.name == "variance") fftest::backend().fill(t.data<float>(), t.numel(), 1.0f);
    b.params.push_back(t);
    b.grads.push_back(ff::Tensor());
  }
  layer.bind(b.params, b.grads);
  return b;
}

std::vector<float> run(ff::Normalization& layer, const ff::Shape& shape,
                       const std::vector<float>& xv) {
  ff::Tensor x = make_tensor(shape, xv), y = ff::Tensor::zeros(fftest::device(), shape);
  std::vector<ff::Tensor> scratch;
  layer.forward(x, y, scratch, fftest::simple_context(false));
  return to_vector(y);
}

double ref(double x, double m, double v, bool invert) {
  const double s = std::max(std::sqrt(v), 1e-7);
  return invert ? m + x * s : (x - m) / s;
}

}  // namespace

TEST_CASE("Normalization: statistics set before build are written when the weights are bound",
          "[layers][normalization]") {
  ff::Normalization layer("normalization", 1, true, -1, false);
  const std::vector<float> mean{1.0f, -2.0f, 0.5f}, var{4.0f, 0.25f, 0.0f};  // 0: s = 1e-7
  layer.set_statistics(mean, var);
  CHECK(layer.has_statistics());
  CHECK(layer.build({ff::kNone, 2, 3}) == ff::Shape{ff::kNone, 2, 3});
  CHECK(layer.features() == 3);
  const auto specs = layer.param_specs();
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].name == "mean");
  CHECK(specs[1].name == "variance");
  CHECK(specs[0].shape == ff::Shape{3});
  Bound b = bind_like_model(layer);
  CHECK(to_vector(b.params[0]) == mean);
  CHECK(to_vector(b.params[1]) == var);

  const std::vector<float> xv{3.0f, -1.0f, 0.5f, 0.0f, -2.5f, 0.5000001f, 1.0f, 0.0f, 0.4999999f,
                              -1.0f, -2.0f, 0.5f};
  const auto y = run(layer, {2, 2, 3}, xv);
  for (size_t i = 0; i < xv.size(); ++i)
    REQUIRE(y[i] == Approx(ref(xv[i], mean[i % 3], var[i % 3], false)).epsilon(1e-6).margin(1e-6));
  // The zero-variance feature divides by epsilon: (x - mean) * 1e7.
  CHECK(y[5] == Approx((0.5000001f - 0.5f) * 1e7).epsilon(1e-5));
}

TEST_CASE("Normalization: statistics set after binding are written at once, invert",
          "[layers][normalization]") {
  ff::Normalization layer("normalization", 1, true, -1, true);
  layer.build({ff::kNone, 2});
  Bound b = bind_like_model(layer);
  CHECK_FALSE(layer.has_statistics());
  layer.set_statistics({5.0f, -1.0f}, {9.0f, 16.0f});
  CHECK(to_vector(b.params[0]) == std::vector<float>{5.0f, -1.0f});
  CHECK(to_vector(b.params[1]) == std::vector<float>{9.0f, 16.0f});
  const std::vector<float> xv{1.0f, 2.0f, -1.0f, 0.5f};
  const auto y = run(layer, {2, 2}, xv);
  // invert: mean + x * sqrt(var)
  CHECK(y == std::vector<float>{8.0f, 7.0f, 2.0f, 1.0f});
}

TEST_CASE("Normalization: one value broadcasts to every feature, axis=None",
          "[layers][normalization]") {
  ff::Normalization per_feature("normalization", 1, true, -1, false);
  per_feature.set_statistics({3.0f}, {2.0f});
  per_feature.build({ff::kNone, 4});
  Bound b = bind_like_model(per_feature);
  CHECK(to_vector(b.params[0]) == std::vector<float>(4, 3.0f));
  CHECK(to_vector(b.params[1]) == std::vector<float>(4, 2.0f));

  ff::Normalization global("normalization_1", 1, false, 0, false);
  global.set_statistics({3.0f}, {2.0f});
  global.build({ff::kNone, 3, 2});
  CHECK(global.param_specs()[0].shape == ff::Shape{});
  CHECK(global.features() == 1);
  Bound g = bind_like_model(global);
  const std::vector<float> xv{1, 2, 3, 4, 5, 6};
  const auto y = run(global, {1, 3, 2}, xv);
  for (size_t i = 0; i < 6; ++i) CHECK(y[i] == Approx((xv[i] - 3.0) / std::sqrt(2.0)));
}

TEST_CASE("Normalization: using it un-adapted raises, unless the weights were written",
          "[layers][normalization]") {
  ff::Normalization layer("normalization", 1, true, -1, false);
  layer.build({ff::kNone, 2});
  Bound b = bind_like_model(layer);
  CHECK_THROWS_WITH(run(layer, {1, 2}, {1.0f, 2.0f}),
                    Catch::Contains("must call `.adapt(data)`") && Catch::Contains("normalization"));
  // A model's set_weights writes the weights around the layer: that counts as set.
  fill(b.params[0], {1.0f, 1.0f});
  fill(b.params[1], {4.0f, 4.0f});
  CHECK(run(layer, {1, 2}, {3.0f, 5.0f}) == std::vector<float>{1.0f, 2.0f});
  CHECK(layer.has_statistics());
}

TEST_CASE("Normalization: rebinding the same weights keeps their values, new ones get them",
          "[layers][normalization]") {
  ff::Normalization layer("normalization", 1, true, -1, false);
  layer.set_statistics({1.0f, 2.0f}, {1.0f, 1.0f});
  layer.build({ff::kNone, 2});
  Bound b = bind_like_model(layer);
  fill(b.params[0], {7.0f, 8.0f});  // e.g. a model's set_weights after the build
  layer.bind(b.params, b.grads);   // e.g. a model rebinding a shared layer's gradients
  CHECK(to_vector(b.params[0]) == std::vector<float>{7.0f, 8.0f});
  // New storage (the layer in a second model) receives the statistics.
  Bound other = bind_like_model(layer);
  CHECK(to_vector(other.params[0]) == std::vector<float>{1.0f, 2.0f});
  CHECK(run(layer, {1, 2}, {2.0f, 2.0f}) == std::vector<float>{1.0f, 0.0f});
}

TEST_CASE("Normalization: feature-count and value errors", "[layers][normalization]") {
  ff::Normalization adapted("normalization", 1, true, -1, false);
  adapted.set_statistics({0.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f});
  CHECK_THROWS_WITH(adapted.build({ff::kNone, 4}),
                    Catch::Contains("expected shape=(None, 3)") &&
                        Catch::Contains("found shape=(None, 4)"));

  ff::Normalization built("normalization_1", 1, true, -1, false);
  built.build({ff::kNone, 2});
  CHECK_THROWS_WITH(built.set_statistics({0, 0, 0}, {1, 1, 1}), Catch::Contains("2 features"));
  CHECK_THROWS_WITH(built.set_statistics({0, 0}, {1}), Catch::Contains("same"));
  CHECK_THROWS_WITH(built.set_statistics({0, std::nanf("")}, {1, 1}), Catch::Contains("finite"));
  CHECK_THROWS_WITH(built.set_statistics({0, 0}, {1, -0.5f}), Catch::Contains(">= 0"));
  CHECK_FALSE(built.has_statistics());  // failed calls change nothing

  CHECK_THROWS_AS(ff::Normalization("n", 1, true, 0, false), ff::ValueError);
  ff::Normalization axis1("normalization_2", 1, true, 1, false);
  CHECK_THROWS_WITH(axis1.build({ff::kNone, 3, 2}), Catch::Contains("Use axis=-1"));
  ff::Normalization flat("normalization_3", 1, true, -1, false);
  CHECK_THROWS_WITH(flat.build({ff::kNone}), Catch::Contains("axis=None"));
}

TEST_CASE("Normalization: gradient check (dx, mean and variance are constants)",
          "[layers][normalization][gradient]") {
  for (bool invert : {false, true}) {
    ff::Normalization layer(invert ? "normalization_inv" : "normalization", 1, true, -1, invert);
    layer.set_statistics({0.0f, 0.0f}, {1.0f, 1.0f});
    LayerCheckSpec spec;
    spec.input_shape = {3, 2, 2};
    spec.accept = [](const ff::Tensor&, const std::vector<ff::Tensor>& p, double) {
      for (float v : to_vector(p[1]))
        if (v < 0.05f) return false;
      return true;
    };
    const auto r = check_layer_gradients(layer, spec);
    CAPTURE(invert);
    require_gradients_match(r.dx);
  }
}
