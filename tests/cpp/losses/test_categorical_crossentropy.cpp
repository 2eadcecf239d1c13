// Tests for losses/categorical_crossentropy.cpp: Keras's value on probabilities (normalised,
// clipped to [1e-7, 1 - 1e-7], -sum t log p) and on logits (-sum t log softmax x), dL/dpred by
// finite differences (shared helper), and the error for integer labels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

namespace {

double cce_probs_ref(const std::vector<float>& p, const std::vector<float>& t, int64_t k) {
  double total = 0;
  for (size_t r = 0; r < p.size() / k; ++r) {
    double s = 0;
    for (int64_t c = 0; c < k; ++c) s += p[r * k + c];
    for (int64_t c = 0; c < k; ++c) {
      const double q = std::min(std::max(p[r * k + c] / s, 1e-7), 1.0 - 1e-7);
      total -= t[r * k + c] * std::log(q);
    }
  }
  return total;
}

double cce_logits_ref(const std::vector<float>& x, const std::vector<float>& t, int64_t k) {
  double total = 0;
  for (size_t r = 0; r < x.size() / k; ++r) {
    double mx = x[r * k];
    for (int64_t c = 1; c < k; ++c) mx = std::max(mx, static_cast<double>(x[r * k + c]));
    double se = 0;
    for (int64_t c = 0; c < k; ++c) se += std::exp(x[r * k + c] - mx);
    const double lse = mx + std::log(se);
    for (int64_t c = 0; c < k; ++c) total -= t[r * k + c] * (x[r * k + c] - lse);
  }
  return total;
}

// One-hot rows for labels, and one soft row at the end.
std::vector<float> targets(const std::vector<int>& labels, int64_t k) {
  std::vector<float> t(labels.size() * k, 0.0f);
  for (size_t r = 0; r < labels.size(); ++r) t[r * k + labels[r]] = 1.0f;
  const size_t last = (labels.size() - 1) * k;
  std::fill(t.begin() + last, t.begin() + last + k, 0.0f);
  t[last] = 0.25f;
  t[last + 1] = 0.75f;
  return t;
}

}  // namespace

TEST_CASE("categorical_crossentropy on probabilities: value", "[losses][cce]") {
  auto loss = ff::make_categorical_crossentropy(false);
  CHECK(loss->name() == "categorical_crossentropy");
  // Hand-computed: row 0 -log 0.7; row 1 normalised (0.2, 0.2, 0.6)*... -log(0.2/1.0).
  const std::vector<float> p{0.1f, 0.7f, 0.2f, 0.2f, 0.2f, 0.6f};
  const std::vector<float> t{0, 1, 0, 1, 0, 0};
  CHECK(loss_sum(*loss, make_tensor({2, 3}, p), make_tensor({2, 3}, t)) ==
        Approx(-std::log(0.7) - std::log(0.2)).epsilon(1e-5));
  // Unnormalised rows are normalised first (Keras): (1, 3) -> (0.25, 0.75).
  CHECK(loss_sum(*loss, make_tensor({1, 2}, {1.0f, 3.0f}), make_tensor({1, 2}, {0, 1})) ==
        Approx(-std::log(0.75)).epsilon(1e-6));
  // A zero probability on the true class is clipped, not infinite.
  CHECK(loss_sum(*loss, make_tensor({1, 2}, {1.0f, 0.0f}), make_tensor({1, 2}, {0, 1})) ==
        Approx(-std::log(1e-7)).epsilon(1e-4));
}

TEST_CASE("categorical_crossentropy on probabilities: gradient", "[losses][cce][gradient]") {
  auto loss = ff::make_categorical_crossentropy(false);
  const auto p = uniform_values(20, 1, 0.1f, 1.0f);
  const auto t = targets({2, 0, 4, 1}, 5);
  ff::Tensor pred = make_tensor({4, 5}, p), target = make_tensor({4, 5}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(cce_probs_ref(p, t, 5)).epsilon(1e-5));
  require_gradients_match(check_loss_gradient(*loss, pred, target));
}

TEST_CASE("categorical_crossentropy from logits: value and gradient", "[losses][cce][gradient]") {
  auto loss = ff::make_categorical_crossentropy(true);
  const auto x = uniform_values(20, 2, -3.0f, 3.0f);
  const auto t = targets({3, 3, 0, 2}, 5);
  ff::Tensor pred = make_tensor({4, 5}, x), target = make_tensor({4, 5}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(cce_logits_ref(x, t, 5)).epsilon(1e-5));
  require_gradients_match(check_loss_gradient(*loss, pred, target));
  // Hand-computed: logits (0, ln 3) -> softmax (0.25, 0.75).
  CHECK(loss_sum(*loss, make_tensor({1, 2}, {0.0f, static_cast<float>(std::log(3.0))}),
                 make_tensor({1, 2}, {1, 0})) == Approx(std::log(4.0)).epsilon(1e-6));
  // Large logits do not overflow.
  CHECK(loss_sum(*loss, make_tensor({1, 3}, {1000.0f, 0.0f, -1000.0f}),
                 make_tensor({1, 3}, {0, 1, 0})) == Approx(1000.0).epsilon(1e-6));
}

TEST_CASE("categorical_crossentropy: integer labels raise pointing at the sparse loss",
          "[losses][cce]") {
  auto loss = ff::make_categorical_crossentropy(false);
  CHECK(loss->target_shape_for({32, 10}, {32, 10}) == ff::Shape{32, 10});
  CHECK_THROWS_AS(loss->target_shape_for({32, 10}, {32}), ff::ValueError);
  CHECK_THROWS_WITH(loss->target_shape_for({32, 10}, {32}),
                    Catch::Contains("categorical_crossentropy") &&
                        Catch::Contains("sparse_categorical_crossentropy") &&
                        Catch::Contains("(32,)") && Catch::Contains("(32, 10)"));
  CHECK_THROWS_WITH(loss->target_shape_for({32, 10}, {32, 1}),
                    Catch::Contains("sparse_categorical_crossentropy"));
}
