// Tests for the Optimizer base (optimizers/optimizer.cpp): learning-rate validation, use before
// build, state reset by build, the iteration count, and weight decay applied before the update.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.h"
#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Optimizer: learning rate validation", "[optimizers][optimizer]") {
  CHECK_THROWS_AS(ff::make_sgd({-0.1f}, {}), ff::ValueError);
  CHECK_THROWS_AS(ff::make_sgd({std::nanf("")}, {}), ff::ValueError);
  auto opt = ff::make_sgd({0.1f}, {});
  CHECK(opt->learning_rate() == 0.1f);
  opt->set_learning_rate(0.5f);
  CHECK(opt->learning_rate() == 0.5f);
  CHECK_THROWS_AS(opt->set_learning_rate(INFINITY), ff::ValueError);
  CHECK(opt->learning_rate() == 0.5f);
}

TEST_CASE("Optimizer: apply before build raises, build resets the state", "[optimizers][optimizer]") {
  auto opt = ff::make_adam({0.01f}, {});
  ff::Tensor p = make_tensor({2}, {1.0f, 2.0f}), g = make_tensor({2}, {0.1f, 0.2f});
  CHECK_FALSE(opt->built());
  CHECK_THROWS_AS(opt->apply(fftest::backend(), p, g, {{0, 2}}), ff::ValueError);
  const auto a = run_optimizer(*opt, p0(), three_grads());
  CHECK(opt->iterations() == 3);
  const auto b = run_optimizer(*opt, p0(), three_grads());  // build() again: fresh state
  CHECK(a == b);
}

TEST_CASE("Optimizer: weight decay is applied before the update", "[optimizers][optimizer]") {
  ff::OptimizerOptions o;
  o.learning_rate = 0.1f;
  o.weight_decay = 0.2f;
  auto opt = ff::make_sgd(o, {});
  const auto got = run_optimizer(*opt, {1.0f, -2.0f}, {{0.5f, 1.0f}});
  // p = p (1 - wd lr) - lr g
  CHECK(got[0] == Approx(1.0 * 0.98 - 0.05));
  CHECK(got[1] == Approx(-2.0 * 0.98 - 0.1));
}

TEST_CASE("Optimizer: restored iterations and slots continue the update exactly",
          "[optimizers][optimizer]") {
  // Three Adam steps in one go == two steps, state copied into a fresh optimizer, one step.
  auto whole = ff::make_adam({0.01f}, {});
  const auto expected = run_optimizer(*whole, p0(), three_grads());
  auto first = ff::make_adam({0.01f}, {});
  auto grads = three_grads();
  const auto after_two = run_optimizer(*first, p0(), {grads[0], grads[1]});
  auto second = ff::make_adam({0.01f}, {});
  second->build(fftest::backend(), static_cast<int64_t>(after_two.size()));
  for (size_t i = 0; i < first->slots().size(); ++i)
    fftest::backend().copy(second->slots()[i].raw(), first->slots()[i].raw(), first->slots()[i].nbytes());
  second->set_iterations(first->iterations());
  CHECK_THROWS_AS(second->set_iterations(-1), ff::ValueError);
  ff::Tensor p = make_tensor({static_cast<int64_t>(after_two.size())}, after_two);
  ff::Tensor g = make_tensor({static_cast<int64_t>(grads[2].size())}, grads[2]);
  second->apply(fftest::backend(), p, g, {{0, p.numel()}});
  CHECK(second->iterations() == 3);
  CHECK(fftest::to_vector(p) == expected);
}
