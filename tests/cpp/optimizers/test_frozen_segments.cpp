// Optimizer::apply over a subset of the parameter buffer (a frozen layer's range left out): the
// frozen range and its optimizer state stay untouched, and the ranges updated get exactly the
// update a whole-buffer pass gives them (clipping and the fused update work per run).
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "optimizers/optimizer.h"
#include "test_util.h"

namespace {

ff::Tensor filled(const std::vector<float>& v) {
  ff::Tensor t = ff::Tensor::empty(fftest::device(), {static_cast<int64_t>(v.size())});
  fftest::fill(t, v);
  return t;
}

std::vector<float> read(const ff::Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  t.device().copy_to_host(v.data(), t.raw(), t.nbytes());
  return v;
}

}  // namespace

TEST_CASE("Optimizer: a frozen range keeps its values and state", "[optimizer]") {
  ff::Backend& be = fftest::backend();
  const std::vector<float> p0{1, 2, 3, 4, 5, 6, 7, 8}, g0{0.5f, -1, 2, -0.25f, 3, 1, -2, 0.75f};
  ff::OptimizerOptions o;
  o.learning_rate = 0.1f;
  o.global_clipnorm = 2.0f;
  // Reference: the whole buffer with the frozen range's gradient zero is NOT the same for Adam
  // (its moments would still move), so the reference is two separate optimizers on the runs.
  auto partial = ff::make_adam(o, {});
  partial->build(be, 8);
  ff::Tensor p = filled(p0), g = filled(g0);
  // Variables: [0,2) [2,5) [5,8); the middle one is frozen.
  const std::vector<ff::Segment> active{{0, 2}, {5, 3}};
  for (int step = 0; step < 3; ++step) {
    ff::Tensor gs = filled(g0);
    partial->apply(be, p, gs, active);
  }
  const auto after = read(p);
  CHECK(after[2] == 3.0f);
  CHECK(after[3] == 4.0f);
  CHECK(after[4] == 5.0f);
  for (const ff::Tensor& slot : partial->slots()) {
    const auto s = read(slot);
    CHECK(s[2] == 0.0f);
    CHECK(s[3] == 0.0f);
    CHECK(s[4] == 0.0f);
  }
  // The active ranges match one optimizer over just those five values (global norm over them).
  auto packed = ff::make_adam(o, {});
  packed->build(be, 5);
  ff::Tensor q = filled({p0[0], p0[1], p0[5], p0[6], p0[7]});
  for (int step = 0; step < 3; ++step) {
    ff::Tensor gs = filled({g0[0], g0[1], g0[5], g0[6], g0[7]});
    packed->apply(be, q, gs, {{0, 2}, {2, 3}});
  }
  const auto want = read(q);
  CHECK(after[0] == Approx(want[0]).epsilon(1e-6));
  CHECK(after[1] == Approx(want[1]).epsilon(1e-6));
  CHECK(after[5] == Approx(want[2]).epsilon(1e-6));
  CHECK(after[6] == Approx(want[3]).epsilon(1e-6));
  CHECK(after[7] == Approx(want[4]).epsilon(1e-6));
  CHECK(after[0] != p0[0]);
  // Nothing trainable: the step changes nothing and does not count.
  auto none = ff::make_sgd(o, {});
  none->build(be, 8);
  ff::Tensor r = filled(p0), gr = filled(g0);
  none->apply(be, r, gr, {});
  CHECK(read(r) == p0);
  CHECK(none->iterations() == 0);
}
