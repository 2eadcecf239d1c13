// Tests for losses/binary_crossentropy.cpp: Keras's value on probabilities (clipped to
// [1e-7, 1 - 1e-7]) and on logits (stable form), mean over the last axis, and dL/dpred by finite
// differences (shared helper).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "gradient_check.h"
#include "test_util.h"

using namespace fftest;

namespace {

// Keras: o = clip(p, eps, 1 - eps) (in float32); -mean_c [t log o + (1 - t) log(1 - o)].
double bce_probs_ref(const std::vector<float>& p, const std::vector<float>& t, int64_t cols) {
  double total = 0;
  for (size_t r = 0; r < p.size() / cols; ++r) {
    double row = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const size_t i = r * cols + c;
      const float o = std::min(std::max(p[i], 1e-7f), 1.0f - 1e-7f);
      row -= t[i] * std::log(static_cast<double>(o)) + (1.0 - t[i]) * std::log(1.0 - o);
    }
    total += row / cols;
  }
  return total;
}

// -mean_c [t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], in double.
double bce_logits_ref(const std::vector<float>& x, const std::vector<float>& t, int64_t cols) {
  double total = 0;
  for (size_t r = 0; r < x.size() / cols; ++r) {
    double row = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const size_t i = r * cols + c;
      const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])));
      row -= t[i] * std::log(s) + (1.0 - t[i]) * std::log(1.0 - s);
    }
    total += row / cols;
  }
  return total;
}

}  // namespace

TEST_CASE("binary_crossentropy on probabilities: value", "[losses][bce]") {
  auto loss = ff::make_binary_crossentropy(false);
  CHECK(loss->name() == "binary_crossentropy");
  CHECK_FALSE(loss->from_logits());
  const std::vector<float> p{0.9f, 0.2f, 0.6f, 0.4f};
  const std::vector<float> t{1.0f, 0.0f, 1.0f, 0.3f};
  // Hand-computed, row 0: -(log 0.9 + log 0.8) / 2; row 1: -(log 0.6 + 0.3 log 0.4 + 0.7 log 0.6) / 2.
  const double hand = -(std::log(0.9) + std::log(0.8)) / 2 -
                      (std::log(0.6) + 0.3 * std::log(0.4) + 0.7 * std::log(0.6)) / 2;
  CHECK(bce_probs_ref(p, t, 2) == Approx(hand).epsilon(1e-6));
  CHECK(loss_sum(*loss, make_tensor({2, 2}, p), make_tensor({2, 2}, t)) ==
        Approx(hand).epsilon(1e-5));
}

TEST_CASE("binary_crossentropy on probabilities: clipping keeps 0 and 1 finite", "[losses][bce]") {
  auto loss = ff::make_binary_crossentropy(false);
  const std::vector<float> p{0.0f, 1.0f, 0.0f, 1.0f};
  const std::vector<float> t{1.0f, 0.0f, 0.0f, 1.0f};
  ff::Tensor grad = ff::Tensor::zeros(fftest::device(), {1, 4});
  const double got = loss_sum(*loss, make_tensor({1, 4}, p), make_tensor({1, 4}, t), &grad);
  CHECK(std::isfinite(got));
  CHECK(got == Approx(bce_probs_ref(p, t, 4)).epsilon(1e-5));
  CHECK(got > 7.5);  // two confidently wrong entries of ~16 each, averaged over 4
  // Outside [eps, 1 - eps] the clip has zero gradient (as in Keras).
  for (float g : to_vector(grad)) CHECK(g == 0.0f);
}

TEST_CASE("binary_crossentropy on probabilities: gradient", "[losses][bce][gradient]") {
  auto loss = ff::make_binary_crossentropy(false);
  const auto p = uniform_values(20, 1, 0.05f, 0.95f);
  std::vector<float> t = uniform_values(20, 2, 0.0f, 1.0f);
  for (size_t i = 0; i < t.size(); i += 2) t[i] = t[i] < 0.5f ? 0.0f : 1.0f;  // hard and soft
  ff::Tensor pred = make_tensor({5, 4}, p), target = make_tensor({5, 4}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(bce_probs_ref(p, t, 4)).epsilon(1e-5));
  require_gradients_match(check_loss_gradient(*loss, pred, target));
}

TEST_CASE("binary_crossentropy from logits: value, stability and gradient", "[losses][bce][gradient]") {
  auto loss = ff::make_binary_crossentropy(true);
  CHECK(loss->from_logits());
  const auto x = uniform_values(20, 3, -4.0f, 4.0f);
  std::vector<float> t = uniform_values(20, 4, 0.0f, 1.0f);
  for (size_t i = 0; i < t.size(); i += 2) t[i] = t[i] < 0.5f ? 0.0f : 1.0f;
  ff::Tensor pred = make_tensor({5, 4}, x), target = make_tensor({5, 4}, t);
  CHECK(loss_sum(*loss, pred, target) == Approx(bce_logits_ref(x, t, 4)).epsilon(1e-5));
  require_gradients_match(check_loss_gradient(*loss, pred, target));

  // Large logits: no overflow; confidently wrong costs |x|, confidently right ~0.
  ff::Tensor big = make_tensor({1, 4}, {50.0f, -50.0f, 50.0f, -50.0f});
  ff::Tensor bt = make_tensor({1, 4}, {0.0f, 1.0f, 1.0f, 0.0f});
  CHECK(loss_sum(*loss, big, bt) == Approx((50.0 + 50.0) / 4).epsilon(1e-6));
}
