// Tests for optimizers/sgd.cpp: three steps of plain SGD, momentum and Nesterov momentum
// against Keras 3's update rules (m = momentum m - lr g; p += m, or p += momentum m - lr g).
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "optimizer_cases.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::vector<double> sgd_ref(double lr, double momentum, bool nesterov) {
  std::vector<double> p(p0().begin(), p0().end()), m(p.size(), 0.0);
  for (const auto& g : three_grads())
    for (size_t i = 0; i < p.size(); ++i) {
      if (momentum == 0) {
        p[i] -= lr * g[i];
        continue;
      }
      m[i] = momentum * m[i] - lr * g[i];
      p[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
    }
  return p;
}

}  // namespace

TEST_CASE("SGD: plain", "[optimizers][sgd]") {
  auto opt = ff::make_sgd({0.1f}, {});
  CHECK(opt->name() == "SGD");
  CHECK(opt->slot_names().empty());
  check_close(run_optimizer(*opt, p0(), three_grads()), sgd_ref(0.1, 0.0, false));
  CHECK(opt->iterations() == 3);
  // Hand-computed for parameter 0: 1 - 0.1 (0.5 + 0.3 - 0.2) = 0.94.
  CHECK(sgd_ref(0.1, 0.0, false)[0] == Approx(0.94));
}

TEST_CASE("SGD: momentum", "[optimizers][sgd]") {
  auto opt = ff::make_sgd({0.1f}, {0.9f, false});
  CHECK(opt->slot_names() == std::vector<std::string>{"momentum"});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, sgd_ref(0.1, 0.9, false));
  // m after 3 steps for parameter 0: m1 = -0.05, m2 = -0.075, m3 = -0.0475.
  CHECK(to_vector(opt->slots()[0])[0] == Approx(-0.0475));
  CHECK(got[0] == Approx(1.0 - 0.05 - 0.075 - 0.0475));
}

TEST_CASE("SGD: Nesterov momentum", "[optimizers][sgd]") {
  auto opt = ff::make_sgd({0.1f}, {0.9f, true});
  const auto got = run_optimizer(*opt, p0(), three_grads());
  check_close(got, sgd_ref(0.1, 0.9, true));
  // Nesterov and classical momentum differ.
  CHECK(got[2] != Approx(sgd_ref(0.1, 0.9, false)[2]).epsilon(1e-3));
}

TEST_CASE("SGD: momentum outside 0..1 raises", "[optimizers][sgd]") {
  CHECK_THROWS_AS(ff::make_sgd({0.1f}, {1.5f, false}), ff::ValueError);
  CHECK_THROWS_AS(ff::make_sgd({0.1f}, {-0.1f, false}), ff::ValueError);
}
