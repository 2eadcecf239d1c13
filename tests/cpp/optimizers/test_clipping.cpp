// Tests for the clipping in optimizers/optimizer.cpp: clipvalue (elementwise), clipnorm (each
// variable's segment by its own norm), global_clipnorm (all gradients by their joint norm), and
// that at most one of them can be set. Plain SGD with lr 1 makes the step equal the gradient.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.h"
#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

// The (clipped) gradient an SGD(lr=1) step applied: p0 - p1.
std::vector<double> applied(ff::OptimizerOptions o, const std::vector<float>& g,
                            std::vector<ff::Segment> segments = {}) {
  o.learning_rate = 1.0f;
  auto opt = ff::make_sgd(o, {});
  const std::vector<float> start(g.size(), 0.0f);
  const auto p = run_optimizer(*opt, start, {g}, segments);
  std::vector<double> out;
  for (float v : p) out.push_back(-static_cast<double>(v));
  return out;
}

}  // namespace

TEST_CASE("clipvalue clips each element", "[optimizers][clipping]") {
  ff::OptimizerOptions o;
  o.clipvalue = 1.0f;
  const auto got = applied(o, {3.0f, -0.2f, -5.0f, 0.9f});
  CHECK(got == std::vector<double>{1.0, static_cast<double>(-0.2f), -1.0, static_cast<double>(0.9f)});
}

TEST_CASE("clipnorm clips each variable by its own norm", "[optimizers][clipping]") {
  ff::OptimizerOptions o;
  o.clipnorm = 1.0f;
  // Two variables: [3, 4] (norm 5, scaled to norm 1) and [0.3, 0.4] (norm 0.5, unchanged).
  const auto got = applied(o, {3.0f, 4.0f, 0.3f, 0.4f}, {{0, 2}, {2, 2}});
  REQUIRE(got.size() == 4);
  CHECK(got[0] == Approx(0.6).epsilon(1e-6));
  CHECK(got[1] == Approx(0.8).epsilon(1e-6));
  CHECK(got[2] == Approx(0.3).epsilon(1e-6));
  CHECK(got[3] == Approx(0.4).epsilon(1e-6));
  // One segment over everything: the joint norm sqrt(25.25) is clipped instead.
  const auto whole = applied(o, {3.0f, 4.0f, 0.3f, 0.4f});
  CHECK(whole[2] == Approx(0.3 / std::sqrt(25.25)).epsilon(1e-6));
}

TEST_CASE("global_clipnorm clips all gradients by their joint norm", "[optimizers][clipping]") {
  ff::OptimizerOptions o;
  o.global_clipnorm = 1.0f;
  const auto got = applied(o, {3.0f, 4.0f, 0.3f, 0.4f}, {{0, 2}, {2, 2}});
  const double norm = std::sqrt(25.25);
  check_close(std::vector<float>(got.begin(), got.end()),
              {3.0 / norm, 4.0 / norm, 0.3 / norm, 0.4 / norm});
  // Below the threshold nothing changes.
  o.global_clipnorm = 10.0f;
  const auto small = applied(o, {3.0f, 4.0f, 0.3f, 0.4f}, {{0, 2}, {2, 2}});
  CHECK(small[1] == Approx(4.0));
  CHECK(small[3] == Approx(0.4));
}

TEST_CASE("Setting two clipping options raises", "[optimizers][clipping]") {
  ff::OptimizerOptions o;
  o.clipnorm = 1.0f;
  o.clipvalue = 1.0f;
  CHECK_THROWS_AS(ff::make_sgd(o, {}), ff::ValueError);
  CHECK_THROWS_WITH(ff::make_adam(o, {}),
                    Catch::Contains("Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"));
  ff::OptimizerOptions g;
  g.clipnorm = 1.0f;
  g.global_clipnorm = 2.0f;
  CHECK_THROWS_AS(ff::make_rmsprop(g, {}), ff::ValueError);
  ff::OptimizerOptions h;
  h.clipvalue = 0.5f;
  h.global_clipnorm = 2.0f;
  CHECK_THROWS_AS(ff::make_adagrad(h, {}), ff::ValueError);
  ff::OptimizerOptions neg;
  neg.clipnorm = -1.0f;
  CHECK_THROWS_AS(ff::make_sgd(neg, {}), ff::ValueError);
}
