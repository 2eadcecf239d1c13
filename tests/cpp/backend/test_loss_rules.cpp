// The losses' and metrics' shared FF_HD rules (backend/loss_rules.h) on the CPU: probability
// clipping and its gradient, the binary crossentropy term against a double-precision reference,
// NaN propagation, and argmax_beats as a total order whose pairwise tree (how a CUDA warp picks)
// finds the index of the CPU's left-to-right scan, ties and NaN included.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "backend/loss_rules.h"
#include "backend/registry.h"
#include "core/rng.h"

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The CPU metric's scan (cpu_backend.cpp): the first NaN, else the first largest value.
int64_t scan_argmax(const std::vector<float>& x) {
  int64_t best = 0;
  for (int64_t i = 1; i < static_cast<int64_t>(x.size()); ++i) {
    if (std::isnan(x[best])) return best;
    if (ff::argmax_beats(x[i], i, x[best], best)) best = i;
  }
  return best;
}

// A CUDA warp's way: 32 lanes scan strided columns, then a butterfly of pairwise picks.
int64_t tree_argmax(const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  int64_t best[32];
  float value[32];
  for (int lane = 0; lane < 32; ++lane) {
    best[lane] = lane < n ? lane : 0;
    value[lane] = x[best[lane]];
    for (int64_t c = lane + 32; c < n; c += 32)
      if (ff::argmax_beats(x[c], c, value[lane], best[lane])) {
        best[lane] = c;
        value[lane] = x[c];
      }
  }
  for (int m = 16; m > 0; m >>= 1) {
    int64_t nb[32];
    float nv[32];
    for (int lane = 0; lane < 32; ++lane) {
      const int other = lane ^ m;
      const bool take = ff::argmax_beats(value[other], best[other], value[lane], best[lane]);
      nb[lane] = take ? best[other] : best[lane];
      nv[lane] = take ? value[other] : value[lane];
    }
    for (int lane = 0; lane < 32; ++lane) {
      best[lane] = nb[lane];
      value[lane] = nv[lane];
    }
  }
  for (int lane = 1; lane < 32; ++lane) REQUIRE(best[lane] == best[0]);
  return best[0];
}

}  // namespace

TEST_CASE("probability clipping keeps NaN and zeroes the clipped gradient", "[backend][rules]") {
  CHECK(ff::clip_probability(0.0f) == ff::kLossEpsilon);
  CHECK(ff::clip_probability(1.0f) == 1.0f - ff::kLossEpsilon);
  CHECK(ff::clip_probability(-3.0f) == ff::kLossEpsilon);
  CHECK(ff::clip_probability(0.25f) == 0.25f);
  CHECK(std::isnan(ff::clip_probability(kNaN)));
  CHECK(ff::probability_clipped(0.0f));
  CHECK_FALSE(ff::probability_clipped(0.5f));
  CHECK(ff::crossentropy_dq(0.0f, ff::clip_probability(0.0f), 1.0f) == 0.0f);
  CHECK(ff::crossentropy_dq(0.25f, 0.25f, 0.5f) == -2.0f);
  CHECK(std::isnan(ff::crossentropy_dq(kNaN, kNaN, 1.0f)));
}

TEST_CASE("binary crossentropy rule against a double reference", "[backend][rules]") {
  for (float x : {-20.0f, -3.0f, -0.5f, 0.0f, 0.7f, 4.0f, 30.0f})
    for (float t : {0.0f, 0.3f, 1.0f}) {
      INFO("x " << x << " t " << t);
      const double xd = x, s = 1.0 / (1.0 + std::exp(-xd));
      const double want = std::max(xd, 0.0) - xd * t + std::log1p(std::exp(-std::fabs(xd)));
      CHECK(ff::bce_term(x, t, true) == Approx(want).epsilon(1e-5).margin(1e-6));
      CHECK(ff::bce_grad(x, t, true, 2.0f) == Approx(2.0 * (s - t)).epsilon(1e-5).margin(1e-6));
    }
  for (float p : {0.01f, 0.3f, 0.99f})
    for (float t : {0.0f, 0.4f, 1.0f}) {
      const double want = -(t * std::log(double(p)) + (1.0 - t) * std::log(1.0 - p));
      CHECK(ff::bce_term(p, t, false) == Approx(want).epsilon(1e-5));
      CHECK(ff::bce_grad(p, t, false, 1.0f) == Approx(-t / p + (1.0 - t) / (1.0 - p)).epsilon(1e-4));
    }
  CHECK(ff::bce_grad(0.0f, 1.0f, false, 1.0f) == 0.0f);  // clipped
  CHECK(std::isnan(ff::bce_term(kNaN, 1.0f, false)));
  CHECK(std::isnan(ff::bce_grad(kNaN, 1.0f, false, 1.0f)));
  CHECK(std::isnan(ff::bce_term(kNaN, 1.0f, true)));
  CHECK(std::isnan(ff::mae_grad(kNaN, 1.0f)));
  CHECK(ff::mae_grad(0.0f, 1.0f) == 0.0f);
  CHECK(ff::huber_term(3.0f, 1.0f) == 2.5);
  CHECK(ff::huber_term(0.5f, 1.0f) == 0.125);
  CHECK(ff::huber_grad(-3.0f, 1.0f, 2.0f) == -2.0f);
  CHECK(ff::mean_error_term(1.0f, 3.0f, 2) == 4.0);
  CHECK(ff::mean_error_term(1.0f, 3.0f, 1) == 2.0);
  CHECK(ff::binary_hit(0.7f, 1.0f, 0.5f));
  CHECK_FALSE(ff::binary_hit(kNaN, 1.0f, 0.5f));
}

TEST_CASE("argmax_beats: a warp's tree finds the CPU scan's index", "[backend][rules]") {
  // NaN beats numbers, larger beats smaller, then the lower index
  CHECK(ff::argmax_beats(kNaN, 5, kInf, 0));
  CHECK_FALSE(ff::argmax_beats(kInf, 0, kNaN, 5));
  CHECK(ff::argmax_beats(kNaN, 2, kNaN, 5));
  CHECK(ff::argmax_beats(1.0f, 2, 1.0f, 3));
  CHECK_FALSE(ff::argmax_beats(1.0f, 3, 1.0f, 2));
  CHECK(ff::argmax_beats(-0.0f, 0, 0.0f, 1));  // -0 == 0: a tie
  for (int64_t cols : {int64_t{1}, int64_t{3}, int64_t{10}, int64_t{33}, int64_t{100}, int64_t{1000}})
    for (uint64_t seed = 0; seed < 40; ++seed) {
      std::vector<float> x(static_cast<size_t>(cols));
      for (int64_t i = 0; i < cols; ++i)  // a coarse grid: many ties
        x[i] = std::round(4.0f * ff::Philox::uniform(seed, cols, i)) - 2.0f;
      if (seed % 4 == 1) x[(seed * 7) % cols] = kNaN;
      if (seed % 4 == 2) x[(seed * 3) % cols] = kInf;
      if (seed % 8 == 3) {
        x[(seed * 5) % cols] = kNaN;
        x[(seed * 11) % cols] = kNaN;
      }
      INFO("cols " << cols << " seed " << seed);
      CHECK(tree_argmax(x) == scan_argmax(x));
    }
}

TEST_CASE("the CPU accuracy metrics score ties as the first index and NaN as the largest",
          "[backend][rules]") {
  ff::Backend& be = ff::backend_for(ff::DeviceType::CPU);
  // row 0: a tie at 1 and 2 -> 1; row 1: NaN at 2 -> 2; row 2: two NaNs -> 0
  const std::vector<float> pred = {0.1f, 0.5f, 0.5f, 0.2f, 0.9f, kNaN, kNaN, 3.0f, kNaN};
  const std::vector<int64_t> labels = {1, 2, 0};
  double sum = 0.25;
  be.metric_sparse_categorical_accuracy(pred.data(), labels.data(), 3, 3, &sum);
  CHECK(sum == 3.25);
  const std::vector<int64_t> wrong = {2, 1, 2};
  sum = 0.0;
  be.metric_sparse_categorical_accuracy(pred.data(), wrong.data(), 3, 3, &sum);
  CHECK(sum == 0.0);
  const std::vector<float> target = {0, 1, 0, 0, 0, 1, 1, 0, 0};
  sum = 0.0;
  be.metric_categorical_accuracy(pred.data(), target.data(), 3, 3, &sum);
  CHECK(sum == 3.0);
}
