// Tests for losses/huber.cpp: Keras's value (0.5 e^2 for |e| <= delta, delta (|e| - delta/2)
// beyond, mean over the last axis) and dL/dpred by finite differences on both branches.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.h"
#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

namespace {
double huber_ref(const std::vector<float>& p, const std::vector<float>& t, int64_t cols, double d) {
  double total = 0;
  const int64_t rows = static_cast<int64_t>(p.size()) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    double row = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double e = std::fabs(static_cast<double>(p[r * cols + c]) - t[r * cols + c]);
      row += e <= d ? 0.5 * e * e : d * e - 0.5 * d * d;
    }
    total += row / static_cast<double>(cols);
  }
  return total;
}
}  // namespace

TEST_CASE("huber: value on both branches", "[losses][huber]") {
  const float delta = GENERATE(1.0f, 0.5f, 2.0f);
  CAPTURE(delta);
  auto loss = ff::make_huber(delta);
  CHECK(loss->name() == "huber");
  const std::vector<float> p{0.2f, -3.0f, 1.75f, 4.0f, 0.0f, -0.6f};
  const std::vector<float> t{0.0f, 0.0f, 0.0f, 1.0f, 0.3f, 0.6f};
  ff::Tensor pred = make_tensor({2, 3}, p), target = make_tensor({2, 3}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(huber_ref(p, t, 3, delta)).epsilon(1e-6));
  if (delta == 1.0f) {
    // Hand-computed: row 0: (0.02 + 2.5 + 1.25) / 3; row 1: (2.5 + 0.045 + 0.7) / 3.
    CHECK(loss_sum(*loss, pred, target) == Approx(3.77 / 3 + 3.245 / 3).epsilon(1e-6));
  }
}

TEST_CASE("huber: gradient on both branches", "[losses][huber][gradient]") {
  const float delta = GENERATE(1.0f, 0.5f, 2.0f);
  CAPTURE(delta);
  auto loss = ff::make_huber(delta);
  // |e| in [0.1, 0.8] delta or [1.2, 2.5] delta: away from the switch at |e| = delta.
  const auto t = uniform_values(24, 9, -1, 1);
  const auto small = signed_values(24, 10, 0.1f * delta, 0.8f * delta);
  const auto large = signed_values(24, 11, 1.2f * delta, 2.5f * delta);
  std::vector<float> p(24);
  for (size_t i = 0; i < p.size(); ++i) p[i] = t[i] + (i % 2 ? small[i] : large[i]);
  require_gradients_match(check_loss_gradient(*loss, make_tensor({4, 6}, p), make_tensor({4, 6}, t)));
}

TEST_CASE("huber: delta must be positive", "[losses][huber]") {
  CHECK_THROWS_AS(ff::make_huber(0.0f), ff::ValueError);
  CHECK_THROWS_AS(ff::make_huber(-1.0f), ff::ValueError);
}
