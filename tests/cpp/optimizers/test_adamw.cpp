// Tests for optimizers/adamw.cpp: Adam with decoupled weight decay, Keras 3's order: first
// p -= p * weight_decay * lr, then the Adam update.
#include <catch2/catch.hpp>

#include <cmath>

#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<double> adamw_ref(double lr, double wd) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
  std::vector<double> p(p0().begin(), p0().end()), m(p.size(), 0), v(p.size(), 0);
  int t = 0;
  for (const auto& g : three_grads()) {
    ++t;
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= p[i] * wd * lr;
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (static_cast<double>(g[i]) * g[i] - v[i]) * (1 - b2);
      p[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
  }
  return p;
}

}  // namespace

TEST_CASE("AdamW: decoupled weight decay", "[optimizers][adamw]") {
  ff::OptimizerOptions o;
  o.learning_rate = 0.01f;
  o.weight_decay = 0.5f;  // large, so the decay term is well above float noise
  auto opt = ff::make_adamw(o, {});
  CHECK(opt->name() == "AdamW");
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, adamw_ref(0.01, 0.5));
  // Without decay it is plain Adam: the decay really changed the result.
  CHECK(std::fabs(adamw_ref(0.01, 0.0)[0] - got[0]) > 1e-3);
}

TEST_CASE("AdamW: Keras's default decay 0.004", "[optimizers][adamw]") {
  ff::OptimizerOptions o;
  o.learning_rate = 0.001f;
  o.weight_decay = 0.004f;
  auto opt = ff::make_adamw(o, {});
  check_close(run_optimizer(*opt, p0(), three_grads()), adamw_ref(0.001, 0.004));
}
