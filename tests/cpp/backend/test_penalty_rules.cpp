// The penalty kernel (Backend::penalty, backend/penalty_rules.h) that a model's added losses and
// weight regularizers run through: the sum of linear*v + l1*|v| + l2*v^2 (scaled, added to a
// step sum) and its gradient (times the loss scale, written or accumulated) against a double
// reference; sign(0) = 0; a zero coefficient never turns an Inf into NaN; NaN propagates; the
// sum's bits do not depend on the CPU thread count. Runs on the backend under test (the
// emulated GPU too); the CUDA rows are in test_cuda_parity_state.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "backend/penalty_rules.h"
#include "test_util.h"

namespace {

ff::PenaltySpec spec(float linear, float l1, float l2) {
  ff::PenaltySpec p;
  p.linear = linear;
  p.l1 = l1;
  p.l2 = l2;
  return p;
}

double ref_sum(const std::vector<float>& x, const ff::PenaltySpec& p) {
  double s = 0.0;
  for (float v : x) s += p.linear * double(v) + p.l1 * std::fabs(double(v)) + p.l2 * double(v) * v;
  return s;
}

float ref_grad(float v, const ff::PenaltySpec& p) {
  const float sign = v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f);
  return p.linear + p.l1 * sign + 2.0f * p.l2 * v;
}

}  // namespace

TEST_CASE("penalty: the sum and the gradient against a double reference", "[backend][penalty]") {
  std::vector<float> x = fftest::signed_values(1000, 3, 0.01f, 2.0f);
  x[7] = 0.0f;  // sign(0) = 0: no L1 gradient
  const ff::PenaltySpec p = spec(0.5f, 0.01f, 0.02f);
  ff::Tensor xt = fftest::make_tensor({1000}, x);
  ff::Tensor g = fftest::make_tensor({1000}, std::vector<float>(1000, 7.0f));
  fftest::StateBlock block(2);
  block.write_step_sum(1, 1.5);
  fftest::backend().penalty(xt.data<float>(), 1000, p, block.step_sum(1), 3.0, g.data<float>(),
                            false, block.get());
  CHECK(block.read_step_sum(1) == Approx(1.5 + 3.0 * ref_sum(x, p)).epsilon(1e-12));
  CHECK(block.read_step_sum(0) == 0.0);
  const std::vector<float> got = fftest::to_vector(g);
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("element " << i << " value " << x[i]);
    CHECK(got[i] == Approx(ref_grad(x[i], p)).epsilon(1e-6).margin(1e-7));
  }
  CHECK(got[7] == Approx(0.5f + 0.0f));
}

TEST_CASE("penalty: accumulate adds to the gradient, which carries the loss scale",
          "[backend][penalty]") {
  const std::vector<float> x = {-2.0f, -0.5f, 0.25f, 3.0f};
  const ff::PenaltySpec p = spec(0.0f, 0.1f, 0.5f);
  ff::Tensor xt = fftest::make_tensor({4}, x);
  ff::Tensor g = fftest::make_tensor({4}, {1.0f, 2.0f, 3.0f, 4.0f});
  fftest::StateBlock block(1);
  ff::StepState h = block.read();
  h.loss_scaling = 1;
  h.loss_scale = 8.0f;
  block.write(h);
  fftest::backend().penalty(xt.data<float>(), 4, p, nullptr, 1.0, g.data<float>(), true,
                            block.get());
  const std::vector<float> got = fftest::to_vector(g);
  for (size_t i = 0; i < 4; ++i)
    CHECK(got[i] == Approx(1.0f + i + 8.0f * ref_grad(x[i], p)).epsilon(1e-6));
  CHECK(block.read_step_sum(0) == 0.0);  // a null sum adds nothing
}

TEST_CASE("penalty: Inf under a zero coefficient, NaN propagating, empty input",
          "[backend][penalty]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  fftest::StateBlock block(3);
  ff::Tensor a = fftest::make_tensor({2}, {inf, 1.0f});
  // linear only: the sum is +Inf, not NaN (no 0 * Inf from the absent L1/L2 terms)
  fftest::backend().penalty(a.data<float>(), 2, spec(1.0f, 0.0f, 0.0f), block.step_sum(0), 1.0,
                            nullptr, false, block.get());
  CHECK(block.read_step_sum(0) == inf);
  ff::Tensor b = fftest::make_tensor({3}, {1.0f, nan, -1.0f});
  ff::Tensor g = fftest::make_tensor({3}, {0.0f, 0.0f, 0.0f});
  fftest::backend().penalty(b.data<float>(), 3, spec(0.0f, 1.0f, 1.0f), block.step_sum(1), 1.0,
                            g.data<float>(), false, block.get());
  CHECK(std::isnan(block.read_step_sum(1)));
  const std::vector<float> got = fftest::to_vector(g);
  CHECK(got[0] == Approx(3.0f));
  CHECK(std::isnan(got[1]));
  CHECK(got[2] == Approx(-3.0f));
  fftest::backend().penalty(b.data<float>(), 0, spec(1.0f, 1.0f, 1.0f), block.step_sum(2), 1.0,
                            g.data<float>(), false, block.get());
  CHECK(block.read_step_sum(2) == 0.0);
}

TEST_CASE("penalty: the sum's bits do not depend on the thread count", "[backend][penalty]") {
  const std::vector<float> x = fftest::signed_values(200000, 9, 0.0f, 3.0f);
  ff::Tensor xt = fftest::make_tensor({200000}, x);
  auto run = [&](int threads) {
    return fftest::with_threads(threads, [&] {
      fftest::StateBlock block(1);
      fftest::backend().penalty(xt.data<float>(), 200000, spec(0.3f, 0.01f, 0.02f),
                                block.step_sum(0), 1.0, nullptr, false, block.get());
      return block.read_step_sum(0);
    });
  };
  const double one = run(1);
  CHECK(run(2) == one);
  CHECK(run(4) == one);
}
