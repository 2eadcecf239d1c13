// Tests for optimizers/adam.cpp: three steps against Keras 3's Adam (m += (g - m)(1 - b1);
// v += (g^2 - v)(1 - b2); p -= lr sqrt(1 - b2^t)/(1 - b1^t) m / (sqrt(v) + eps)), with and
// without amsgrad (v replaced by the running max of v).
#include <catch2/catch.hpp>

#include <cmath>

#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<double> adam_ref(double lr, double b1, double b2, double eps, bool amsgrad,
                             double weight_decay = 0.0) {
  std::vector<double> p(p0().begin(), p0().end()), m(p.size(), 0), v(p.size(), 0),
      vhat(p.size(), 0);
  int t = 0;
  for (const auto& g : three_grads()) {
    ++t;
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= p[i] * weight_decay * lr;
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (static_cast<double>(g[i]) * g[i] - v[i]) * (1 - b2);
      vhat[i] = std::max(vhat[i], v[i]);
      p[i] -= alpha * m[i] / (std::sqrt(amsgrad ? vhat[i] : v[i]) + eps);
    }
  }
  return p;
}

}  // namespace

TEST_CASE("Adam: three steps with Keras defaults", "[optimizers][adam]") {
  ff::AdamOptions a;  // beta_1 0.9, beta_2 0.999, epsilon 1e-7
  auto opt = ff::make_adam({0.01f}, a);
  CHECK(opt->name() == "Adam");
  CHECK(opt->slot_names() == std::vector<std::string>{"momentum", "velocity"});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, adam_ref(0.01, 0.9, 0.999, 1e-7, false));
  // First step of Adam moves each parameter by ~lr against the gradient sign.
  auto one = ff::make_adam({0.01f}, a);
  const auto first = run_optimizer(*one, p0(), {three_grads()[0]});
  CHECK(first[0] == Approx(1.0 - 0.01).epsilon(1e-5));
  CHECK(first[1] == Approx(-2.0 + 0.01).epsilon(1e-5));
  // Moment slots after 3 steps, parameter 0: m = 0.1 (0.81*0.5 + 0.9*0.3 - 0.2).
  CHECK(to_vector(opt->slots()[0])[0] == Approx(0.1 * (0.81 * 0.5 + 0.9 * 0.3 - 0.2)).epsilon(1e-5));
}

TEST_CASE("Adam: amsgrad uses the running maximum of v", "[optimizers][adam]") {
  ff::AdamOptions a;
  a.beta_2 = 0.5f;  // v falls between steps for some parameters, so the max matters
  a.amsgrad = true;
  auto opt = ff::make_adam({0.01f}, a);
  CHECK(opt->slot_names() == std::vector<std::string>{"momentum", "velocity", "velocity_hat"});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, adam_ref(0.01, 0.9, 0.5, 1e-7, true));
  const auto plain = adam_ref(0.01, 0.9, 0.5, 1e-7, false);
  CHECK(std::fabs(got[0] - plain[0]) > 1e-4);  // the test can tell amsgrad from plain Adam
}

TEST_CASE("Adam: other betas and epsilon", "[optimizers][adam]") {
  ff::AdamOptions a;
  a.beta_1 = 0.5f;
  a.beta_2 = 0.9f;
  a.epsilon = 0.1f;
  auto opt = ff::make_adam({0.05f}, a);
  check_close(run_optimizer(*opt, p0(), three_grads()), adam_ref(0.05, 0.5, 0.9, 0.1, false));
}
