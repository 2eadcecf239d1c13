// Tests for optimizers/rmsprop.cpp: three steps against Keras 3's RMSprop
// (v = rho v + (1 - rho) g^2; centered: minus the squared mean gradient; inc = lr g / sqrt(v +
// eps); with momentum m = momentum m + inc, p -= m; else p -= inc).
#include <catch2/catch.hpp>

#include <cmath>

#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<double> rmsprop_ref(double lr, double rho, double momentum, double eps, bool centered) {
  std::vector<double> p(p0().begin(), p0().end()), v(p.size(), 0), mg(p.size(), 0),
      m(p.size(), 0);
  for (const auto& g : three_grads())
    for (size_t i = 0; i < p.size(); ++i) {
      v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
      double denom = v[i];
      if (centered) {
        mg[i] = rho * mg[i] + (1 - rho) * g[i];
        denom -= mg[i] * mg[i];
      }
      const double inc = lr * g[i] / std::sqrt(denom + eps);
      if (momentum > 0) {
        m[i] = momentum * m[i] + inc;
        p[i] -= m[i];
      } else {
        p[i] -= inc;
      }
    }
  return p;
}

}  // namespace

TEST_CASE("RMSprop: plain", "[optimizers][rmsprop]") {
  auto opt = ff::make_rmsprop({0.01f}, {});
  CHECK(opt->name() == "RMSprop");
  CHECK(opt->slot_names() == std::vector<std::string>{"velocity"});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, rmsprop_ref(0.01, 0.9, 0.0, 1e-7, false));
  // Hand-computed first step: v = 0.1 g^2, p -= 0.01 g / sqrt(0.1 g^2) = 0.01 sqrt(10) sign(g).
  auto one = ff::make_rmsprop({0.01f}, {});
  CHECK(run_optimizer(*one, p0(), {three_grads()[0]})[0] ==
        Approx(1.0 - 0.01 * std::sqrt(10.0)).epsilon(1e-5));
}

TEST_CASE("RMSprop: momentum", "[optimizers][rmsprop]") {
  ff::RmspropOptions r;
  r.momentum = 0.5f;
  auto opt = ff::make_rmsprop({0.01f}, r);
  CHECK(opt->slot_names() == std::vector<std::string>{"velocity", "momentum"});
  check_close(run_optimizer(*opt, p0(), three_grads()), rmsprop_ref(0.01, 0.9, 0.5, 1e-7, false));
}

TEST_CASE("RMSprop: centered", "[optimizers][rmsprop]") {
  ff::RmspropOptions r;
  r.centered = true;
  r.rho = 0.8f;
  auto opt = ff::make_rmsprop({0.01f}, r);
  CHECK(opt->slot_names() == std::vector<std::string>{"velocity", "average_gradient"});
  check_close(run_optimizer(*opt, p0(), three_grads()), rmsprop_ref(0.01, 0.8, 0.0, 1e-7, true));
}

TEST_CASE("RMSprop: centered with momentum", "[optimizers][rmsprop]") {
  ff::RmspropOptions r;
  r.centered = true;
  r.momentum = 0.9f;
  auto opt = ff::make_rmsprop({0.01f}, r);
  CHECK(opt->slot_names() ==
        std::vector<std::string>{"velocity", "average_gradient", "momentum"});
  check_close(run_optimizer(*opt, p0(), three_grads()), rmsprop_ref(0.01, 0.9, 0.9, 1e-7, true));
}
