// Tests for losses/mean_absolute_error.cpp: Keras's value (mean |e| over the last axis) and
// dL/dpred by finite differences (shared helper), away from the kink at e = 0.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("mean_absolute_error: value", "[losses][mae]") {
  auto loss = ff::make_mean_absolute_error();
  CHECK(loss->name() == "mean_absolute_error");
  const std::vector<float> p{0.5f, -1.0f, 2.0f, 3.0f, 0.0f, 1.5f};
  const std::vector<float> t{1.0f, 1.0f, 0.0f, 2.5f, -2.0f, 1.5f};
  // Row 0: (0.5 + 2 + 2) / 3; row 1: (0.5 + 2 + 0) / 3.
  const double want = 4.5 / 3 + 2.5 / 3;
  ff::Tensor pred = make_tensor({2, 3}, p), target = make_tensor({2, 3}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(want).epsilon(1e-6));
  ff::Tensor grad = ff::Tensor::zeros(fftest::device(), {2, 3});
  loss_sum(*loss, pred, target, &grad);
  // sign(e) / cols / N, and 0 where e == 0.
  const float g = (1.0f / 2.0f) / 3.0f;
  CHECK(to_vector(grad) == std::vector<float>{-g, -g, g, g, g, 0.0f});
}

TEST_CASE("mean_absolute_error: gradient", "[losses][mae][gradient]") {
  auto loss = ff::make_mean_absolute_error();
  const auto t = uniform_values(24, 5, -2, 2);
  auto p = signed_values(24, 6, 0.1f, 1.0f);  // |pred - target| >= 0.1: no kink crossed
  for (size_t i = 0; i < p.size(); ++i) p[i] += t[i];
  require_gradients_match(check_loss_gradient(*loss, make_tensor({4, 6}, p), make_tensor({4, 6}, t)));
}
