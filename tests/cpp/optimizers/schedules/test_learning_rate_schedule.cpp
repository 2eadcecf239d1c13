// Tests for the optimizer side of schedules (optimizers/optimizer.cpp): each step uses
// schedule(iterations before the step), as Keras 3; learning_rate() reports the next step's
// rate; a scheduled rate cannot be set; decoupled weight decay uses the scheduled rate.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizers/optimizer_cases.h"
#include "optimizers/optimizer.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Optimizer with a schedule: each step uses schedule(step)", "[optimizers][schedules]") {
  auto opt = ff::make_sgd({1.0f}, {});
  opt->set_schedule(ff::make_exponential_decay(0.1, 1, 0.5, false));  // 0.1, 0.05, 0.025, ...
  CHECK(opt->learning_rate() == Approx(0.1));
  const auto got = run_optimizer(*opt, p0(), three_grads());
  std::vector<double> want(p0().begin(), p0().end());
  const double lrs[3] = {0.1, 0.05, 0.025};
  for (int s = 0; s < 3; ++s)
    for (size_t i = 0; i < want.size(); ++i) want[i] -= lrs[s] * three_grads()[s][i];
  check_close(got, want);
  CHECK(opt->iterations() == 3);
  CHECK(opt->learning_rate() == Approx(0.0125));  // the rate of the next step
  CHECK_THROWS_AS(opt->set_learning_rate(0.5f), ff::TypeError);
  CHECK_THROWS_WITH(opt->set_learning_rate(0.5f), Catch::Contains("ExponentialDecay"));
  // Removing the schedule goes back to the fixed rate, which is settable again.
  opt->set_schedule(nullptr);
  CHECK(opt->learning_rate() == Approx(1.0));
  opt->set_learning_rate(0.5f);
  CHECK(opt->learning_rate() == Approx(0.5));
}

TEST_CASE("Optimizer with a schedule: weight decay uses the scheduled rate",
          "[optimizers][schedules]") {
  ff::OptimizerOptions o;
  o.learning_rate = 1.0f;
  o.weight_decay = 0.5f;
  auto opt = ff::make_sgd(o, {});
  opt->set_schedule(ff::make_piecewise_constant_decay({0}, {0.2, 0.1}));  // 0.2, then 0.1
  const auto got = run_optimizer(*opt, p0(), three_grads());
  std::vector<double> want(p0().begin(), p0().end());
  const double lrs[3] = {0.2, 0.1, 0.1};
  for (int s = 0; s < 3; ++s)
    for (size_t i = 0; i < want.size(); ++i)
      want[i] = want[i] * (1.0 - 0.5 * lrs[s]) - lrs[s] * three_grads()[s][i];
  check_close(got, want);
}

TEST_CASE("Optimizer with a schedule: Adam's update uses the scheduled rate",
          "[optimizers][schedules]") {
  // With a constant schedule Adam must match Adam with that fixed rate exactly.
  auto fixed = ff::make_adam({0.01f}, {});
  auto scheduled = ff::make_adam({0.5f}, {});
  scheduled->set_schedule(ff::make_piecewise_constant_decay({}, {0.01}));
  const auto a = run_optimizer(*fixed, p0(), three_grads());
  const auto b = run_optimizer(*scheduled, p0(), three_grads());
  CHECK(a == b);
}
