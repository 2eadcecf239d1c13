// Tests for losses/sparse_categorical_crossentropy.cpp: value against -log p[label] (normalised
// and clipped on probabilities, log-softmax on logits), dL/dpred by finite differences (shared
// helper), the target-shape policy, and that an out-of-range label is reported by row with
// nothing written.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

namespace {

double sparse_ref(const std::vector<float>& p, const std::vector<int64_t>& labels, int64_t k,
                  bool logits) {
  double total = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    const float* x = p.data() + r * k;
    if (logits) {
      double mx = *std::max_element(x, x + k), se = 0;
      for (int64_t c = 0; c < k; ++c) se += std::exp(x[c] - mx);
      total += mx + std::log(se) - x[labels[r]];
    } else {
      double s = 0;
      for (int64_t c = 0; c < k; ++c) s += x[c];
      total -= std::log(std::min(std::max(x[labels[r]] / s, 1e-7), 1.0 - 1e-7));
    }
  }
  return total;
}

}  // namespace

TEST_CASE("sparse_categorical_crossentropy: value and gradient", "[losses][scce][gradient]") {
  const bool logits = GENERATE(false, true);
  CAPTURE(logits);
  auto loss = ff::make_sparse_categorical_crossentropy(logits);
  CHECK(loss->name() == "sparse_categorical_crossentropy");
  CHECK(loss->sparse());
  const std::vector<int64_t> labels{3, 0, 4, 1};
  const auto p = logits ? uniform_values(20, 5, -3.0f, 3.0f) : uniform_values(20, 6, 0.1f, 1.0f);
  ff::Tensor pred = make_tensor({4, 5}, p), target = make_labels(labels);
  CHECK(loss_sum(*loss, pred, target) == Approx(sparse_ref(p, labels, 5, logits)).epsilon(1e-5));
  require_gradients_match(check_loss_gradient(*loss, pred, target));
}

TEST_CASE("sparse_categorical_crossentropy: hand-computed values", "[losses][scce]") {
  auto probs = ff::make_sparse_categorical_crossentropy(false);
  CHECK(loss_sum(*probs, make_tensor({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.25f, 0.25f}),
                 make_labels({1, 2})) == Approx(-std::log(0.7) - std::log(0.25)).epsilon(1e-5));
  auto logits = ff::make_sparse_categorical_crossentropy(true);
  CHECK(loss_sum(*logits, make_tensor({1, 2}, {0.0f, static_cast<float>(std::log(3.0))}),
                 make_labels({0})) == Approx(std::log(4.0)).epsilon(1e-6));
  // Matches categorical_crossentropy on the one-hot encoding.
  auto dense = ff::make_categorical_crossentropy(true);
  const auto x = uniform_values(12, 9, -2.0f, 2.0f);
  CHECK(loss_sum(*logits, make_tensor({3, 4}, x), make_labels({0, 3, 2})) ==
        Approx(loss_sum(*dense, make_tensor({3, 4}, x),
                        make_tensor({3, 4}, {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0})))
            .epsilon(1e-6));
}

TEST_CASE("sparse_categorical_crossentropy: target shapes", "[losses][scce]") {
  auto loss = ff::make_sparse_categorical_crossentropy(true);
  CHECK(loss->target_shape_for({32, 10}, {32}) == ff::Shape{32});
  CHECK(loss->target_shape_for({32, 10}, {32, 1}) == ff::Shape{32});
  CHECK_THROWS_AS(loss->target_shape_for({32, 10}, {16}), ff::ValueError);
  CHECK_THROWS_AS(loss->target_shape_for({32, 10, 2}, {32}), ff::ValueError);
  // One-hot targets: the message points at categorical_crossentropy.
  CHECK_THROWS_AS(loss->target_shape_for({32, 10}, {32, 10}), ff::ValueError);
  CHECK_THROWS_WITH(loss->target_shape_for({32, 10}, {32, 10}),
                    Catch::Contains("(32, 10)") &&
                        Catch::Contains("use categorical_crossentropy"));
}

TEST_CASE("sparse_categorical_crossentropy: an out-of-range label is recorded, nothing written",
          "[losses][scce]") {
  const bool logits = GENERATE(false, true);
  CAPTURE(logits);
  auto loss = ff::make_sparse_categorical_crossentropy(logits);
  ff::Tensor pred = make_tensor({4, 3}, uniform_values(12, 1, 0.1f, 1.0f));
  for (const auto& bad : {std::vector<int64_t>{0, 2, 3, 1}, std::vector<int64_t>{0, 1, 2, -1}}) {
    ff::Tensor grad = make_tensor({4, 3}, std::vector<float>(12, 42.0f));
    fftest::StateBlock block(1);
    block.write_step_sum(0, 5.0);
    loss->compute(fftest::backend(), pred, make_labels(bad), block.step_sum(0), &grad, 0.25f,
                  block.get(), 3);
    const ff::StepState h = block.read();
    CHECK(h.halted == 1);
    CHECK(h.error == static_cast<int32_t>(ff::StepError::BadLabel));
    CHECK(h.error_where == 3);  // the output
    CHECK(h.error_index == (bad[2] == 3 ? 2 : 3));
    CHECK(h.error_value == (bad[2] == 3 ? 3.0 : -1.0));
    CHECK(block.read_step_sum(0) == 5.0);
    CHECK(to_vector(grad) == std::vector<float>(12, 42.0f));
  }
}
