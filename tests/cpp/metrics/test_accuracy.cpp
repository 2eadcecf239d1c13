// Tests for metrics/accuracy.cpp: binary (thresholded per element, mean over the last axis),
// categorical (argmax against argmax of one-hot targets) and sparse categorical (argmax against
// class indices) accuracy on known inputs; each adds per-sample values summed over the batch.
#include <catch2/catch.hpp>

#include <cmath>

#include "metrics/metric.h"
#include "test_util.h"

using namespace fftest;

namespace {
double update(ff::Metric& m, const ff::Tensor& pred, const ff::Tensor& target, double start = 0) {
  return fftest::metric_sum(m, pred, target, start);
}
}  // namespace

TEST_CASE("binary accuracy on probabilities (threshold 0.5)", "[metrics][accuracy]") {
  auto m = ff::make_binary_accuracy("accuracy", 0.5f);
  CHECK(m->name() == "accuracy");
  CHECK_FALSE(m->sparse());
  // 0.7 -> 1 (hit), 0.2 -> 0 (miss), 0.5 -> 0 (hit: strictly greater), 0.9 -> 1 (miss).
  ff::Tensor pred = make_tensor({4, 1}, {0.7f, 0.2f, 0.5f, 0.9f});
  ff::Tensor target = make_tensor({4, 1}, {1.0f, 1.0f, 0.0f, 0.0f});
  CHECK(update(*m, pred, target) == 2.0);
  CHECK(update(*m, pred, target, 3.0) == 5.0);  // accumulates
  // Two columns: per-sample mean over the last axis.
  ff::Tensor p2 = make_tensor({2, 2}, {0.9f, 0.1f, 0.6f, 0.6f});
  ff::Tensor t2 = make_tensor({2, 2}, {1.0f, 1.0f, 1.0f, 1.0f});
  CHECK(update(*m, p2, t2) == Approx(0.5 + 1.0));
}

TEST_CASE("binary accuracy on logits (threshold 0)", "[metrics][accuracy]") {
  auto m = ff::make_binary_accuracy("binary_accuracy", 0.0f);
  ff::Tensor pred = make_tensor({5, 1}, {2.0f, -0.1f, 0.0f, -3.0f, 0.3f});
  ff::Tensor target = make_tensor({5, 1}, {1.0f, 0.0f, 1.0f, 0.0f, 0.0f});
  CHECK(update(*m, pred, target) == 3.0);
}

TEST_CASE("categorical accuracy", "[metrics][accuracy]") {
  auto m = ff::make_categorical_accuracy("accuracy");
  CHECK_FALSE(m->sparse());
  ff::Tensor pred = make_tensor({3, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.3f, 0.3f, 0.4f});
  ff::Tensor target = make_tensor({3, 3}, {0, 1, 0, 0, 0, 1, 0, 0, 1});
  CHECK(update(*m, pred, target) == 2.0);
  // Ties take the first index, as numpy.argmax does.
  ff::Tensor tie = make_tensor({1, 3}, {0.4f, 0.4f, 0.2f});
  CHECK(update(*m, tie, make_tensor({1, 3}, {1, 0, 0})) == 1.0);
  CHECK(update(*m, tie, make_tensor({1, 3}, {0, 1, 0})) == 0.0);
}

TEST_CASE("sparse categorical accuracy", "[metrics][accuracy]") {
  auto m = ff::make_sparse_categorical_accuracy("acc");
  CHECK(m->sparse());
  ff::Tensor pred = make_tensor({4, 3}, {0.1f, 0.7f, 0.2f, 2.0f, -1.0f, 0.0f, 0.3f, 0.3f, 0.4f,
                                         -5.0f, -4.0f, -6.0f});
  CHECK(update(*m, pred, make_labels({1, 0, 0, 1})) == 3.0);
  CHECK(update(*m, pred, make_labels({0, 1, 2, 2})) == 1.0);
}

TEST_CASE("accuracy: argmax treats NaN as the largest value", "[metrics][accuracy]") {
  // A NaN must not be skipped over (that would make class 2 the argmax and count a hit).
  auto m = ff::make_sparse_categorical_accuracy("acc");
  ff::Tensor pred = make_tensor({1, 3}, {0.1f, std::nanf(""), 0.2f});
  CHECK(update(*m, pred, make_labels({2})) == 0.0);
  CHECK(update(*m, pred, make_labels({0})) == 0.0);
  ff::Tensor first = make_tensor({1, 3}, {std::nanf(""), 0.5f, 0.2f});
  CHECK(update(*m, first, make_labels({1})) == 0.0);
}
