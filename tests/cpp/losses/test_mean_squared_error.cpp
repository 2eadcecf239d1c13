// Tests for losses/mean_squared_error.cpp: Keras's value (mean over the last axis, summed over
// the batch into the accumulator) and dL/dpred by finite differences (shared helper).
#include <catch2/catch.hpp>

#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("mean_squared_error: value", "[losses][mse]") {
  auto loss = ff::make_mean_squared_error();
  CHECK(loss->name() == "mean_squared_error");
  const std::vector<float> p{0.5f, -1.0f, 2.0f, 3.0f, 0.0f, 1.5f};
  const std::vector<float> t{1.0f, 1.0f, 0.0f, 2.5f, -2.0f, 1.5f};
  double want = 0;
  for (int r = 0; r < 2; ++r) {
    double row = 0;
    for (int c = 0; c < 3; ++c) row += (p[r * 3 + c] - t[r * 3 + c]) * (p[r * 3 + c] - t[r * 3 + c]);
    want += row / 3;
  }
  // Hand-computed: row 0 (0.25 + 4 + 4) / 3, row 1 (0.25 + 4 + 0) / 3.
  CHECK(want == Approx(8.25 / 3 + 4.25 / 3));
  ff::Tensor pred = make_tensor({2, 3}, p), target = make_tensor({2, 3}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(want).epsilon(1e-6));
  // compute adds to the accumulator; grad may be null.
  CHECK(loss_sum(*loss, pred, target, nullptr, 10.0) == Approx(10.0 + want).epsilon(1e-6));
}

TEST_CASE("mean_squared_error: column targets and gradient", "[losses][mse][gradient]") {
  auto loss = ff::make_mean_squared_error();
  ff::Tensor pred = make_tensor({5, 4}, uniform_values(20, 1, -2, 2));
  ff::Tensor target = make_tensor({5, 4}, uniform_values(20, 2, -2, 2));
  require_gradients_match(check_loss_gradient(*loss, pred, target));
  ff::Tensor col = make_tensor({6, 1}, uniform_values(6, 3, -1, 1));
  ff::Tensor tcol = make_tensor({6, 1}, uniform_values(6, 4, -1, 1));
  require_gradients_match(check_loss_gradient(*loss, col, tcol));
}
