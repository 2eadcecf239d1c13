// Tests for metrics/mean_error.cpp: mean squared (power 2) and mean absolute (power 1) error,
// averaged over the last axis per sample and summed over the batch.
#include <catch2/catch.hpp>

#include "metrics/metric.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("mean squared and mean absolute error metrics", "[metrics][mean_error]") {
  auto mse = ff::make_mean_error("mse", 2);
  auto mae = ff::make_mean_error("mae", 1);
  CHECK(mse->name() == "mse");
  CHECK_FALSE(mse->sparse());
  ff::Tensor pred = make_tensor({2, 3}, {0.5f, -1.0f, 2.0f, 3.0f, 0.0f, 1.5f});
  ff::Tensor target = make_tensor({2, 3}, {1.0f, 1.0f, 0.0f, 2.5f, -2.0f, 1.5f});
  CHECK(metric_sum(*mse, pred, target) == Approx(8.25 / 3 + 4.25 / 3));
  CHECK(metric_sum(*mae, pred, target, 1.0) == Approx(1.0 + 4.5 / 3 + 2.5 / 3));
  // A single column: per-sample error itself.
  CHECK(metric_sum(*mae, make_tensor({3, 1}, {1, 2, 3}), make_tensor({3, 1}, {0, 4, 3})) ==
        Approx(3.0));
  mse->set_name("mean_squared_error");
  CHECK(mse->name() == "mean_squared_error");
}
