// Tests for optimizers/adagrad.cpp: three steps against Keras 3's Adagrad (the accumulator
// starts at initial_accumulator_value = 0.1; acc += g^2; p -= lr g / sqrt(acc + eps)).
#include <catch2/catch.hpp>

#include <cmath>

#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<double> adagrad_ref(double lr, double init, double eps) {
  std::vector<double> p(p0().begin(), p0().end()), acc(p.size(), init);
  for (const auto& g : three_grads())
    for (size_t i = 0; i < p.size(); ++i) {
      acc[i] += static_cast<double>(g[i]) * g[i];
      p[i] -= lr * g[i] / std::sqrt(acc[i] + eps);
    }
  return p;
}

}  // namespace

TEST_CASE("Adagrad: three steps with the Keras defaults", "[optimizers][adagrad]") {
  auto opt = ff::make_adagrad({0.1f}, {});
  CHECK(opt->name() == "Adagrad");
  CHECK(opt->slot_names() == std::vector<std::string>{"accumulator"});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, adagrad_ref(0.1, 0.1, 1e-7));
  // The accumulator started at 0.1: parameter 0 has 0.1 + 0.25 + 0.09 + 0.04.
  CHECK(to_vector(opt->slots()[0])[0] == Approx(0.48).epsilon(1e-6));
  // Hand-computed first step: 1 - 0.1 * 0.5 / sqrt(0.35).
  auto one = ff::make_adagrad({0.1f}, {});
  CHECK(run_optimizer(*one, p0(), {three_grads()[0]})[0] ==
        Approx(1.0 - 0.05 / std::sqrt(0.35)).epsilon(1e-6));
}

TEST_CASE("Adagrad: another initial accumulator value", "[optimizers][adagrad]") {
  ff::AdagradOptions a;
  a.initial_accumulator_value = 1.0f;
  auto opt = ff::make_adagrad({0.5f}, a);
  check_close(run_optimizer(*opt, p0(), three_grads()), adagrad_ref(0.5, 1.0, 1e-7));
}
