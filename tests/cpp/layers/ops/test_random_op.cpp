// RandomOp (layers/ops/random_op.h) and the random kernel (Backend::random_values,
// backend/random_rules.h): normal and uniform draws with their moments, the batch taken from the
// input (or none: a fully known shape), a new draw per training stream and per inference batch,
// the same draw for the same seed and stream; dropout's mask and scale, and its gradient through
// the same mask by the shared finite-difference check; the argument errors. Runs on the backend
// under test (the emulated GPU too); the CUDA rows are in test_cuda_parity_ops.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/ops/random_op.h"
#include "op_test_util.h"

using ff::kNone;
using fftest::ops::eager;
using fftest::ops::HostTensor;

namespace {

double mean_of(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<float>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (float x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size());
}

// The op's output for `x` in a pass of `training`, with the state's stream and batch.
std::vector<float> run(ff::RandomOp& op, const ff::Tensor& x, const ff::Shape& out,
                       bool training, int64_t stream, int64_t batch) {
  fftest::StateBlock block(0, static_cast<uint64_t>(stream));
  ff::StepState h = block.read();
  h.loop_batch = batch;
  block.write(h);
  ff::Tensor y = ff::Tensor::zeros(fftest::device(), out);
  std::vector<ff::Tensor> scratch;
  ff::StepContext ctx{&fftest::backend(), training, block.get(), -1, -1, 0};
  op.forward_multi({x}, y, scratch, ctx);
  return fftest::to_vector(y);
}

}  // namespace

TEST_CASE("RandomOp: normal and uniform draws have their moments", "[ops][random]") {
  ff::RandomOp normal("n", "random_normal", 7, {-1, 1000}, 1.0f, 2.0f);
  const HostTensor n = eager(normal, {{{200, 1}, std::vector<float>(200, 0.0f)}});
  CHECK(n.shape == ff::Shape{200, 1000});  // the batch is the input's
  CHECK(mean_of(n.values) == Approx(1.0).margin(0.02));
  CHECK(var_of(n.values) == Approx(4.0).epsilon(0.02));
  ff::RandomOp uniform("u", "random_uniform", 8, {50, 1000}, -1.0f, 3.0f);
  const HostTensor u = eager(uniform, {{{1, 1}, {0.0f}}});
  CHECK(u.shape == ff::Shape{50, 1000});  // a fully known shape ignores the input's batch
  CHECK(mean_of(u.values) == Approx(1.0).margin(0.02));
  CHECK(var_of(u.values) == Approx(16.0 / 12.0).epsilon(0.02));
  float lo = u.values[0], hi = u.values[0];
  for (float v : u.values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo >= -1.0f);
  CHECK(hi < 3.0f);
}

TEST_CASE("RandomOp: in a model, the batch axis and the draws per step", "[ops][random]") {
  ff::RandomOp batched("n", "random_normal", 3, {-1, 4}, 0.0f, 1.0f);
  CHECK(batched.build({kNone, 2}) == ff::Shape{kNone, 4});
  CHECK(batched.output_batched());
  ff::RandomOp fixed("f", "random_normal", 3, {4}, 0.0f, 1.0f);
  CHECK(fixed.build({kNone, 2}) == ff::Shape{4});
  CHECK_FALSE(fixed.output_batched());  // a value without a batch axis, drawn per step
  ff::Tensor x = fftest::make_tensor({3, 2}, std::vector<float>(6, 0.0f));
  const auto step5 = run(batched, x, {3, 4}, true, 5, 0);
  CHECK(run(batched, x, {3, 4}, true, 5, 0) == step5);       // same seed and step: same draw
  CHECK(run(batched, x, {3, 4}, true, 6, 0) != step5);       // the next step: a new one
  const auto infer0 = run(batched, x, {3, 4}, false, 5, 0);
  CHECK(infer0 != step5);                                     // inference streams are apart
  CHECK(run(batched, x, {3, 4}, false, 9, 0) == infer0);     // ... keyed by the batch alone
  CHECK(run(batched, x, {3, 4}, false, 5, 1) != infer0);     // each batch draws anew
  ff::RandomOp other("m", "random_normal", 4, {-1, 4}, 0.0f, 1.0f);
  other.build({kNone, 2});
  CHECK(run(other, x, {3, 4}, true, 5, 0) != step5);         // another seed: another draw
}

TEST_CASE("RandomOp: dropout's mask, scale and gradient", "[ops][random]") {
  ff::RandomOp drop("d", "dropout", 11, {}, 0.25f, 0.0f);
  const HostTensor y = eager(drop, {{{40, 100}, std::vector<float>(4000, 2.0f)}});
  std::set<float> seen(y.values.begin(), y.values.end());
  CHECK(seen == std::set<float>{0.0f, 2.0f / 0.75f});
  int zeros = 0;
  for (float v : y.values) zeros += v == 0.0f;
  CHECK(zeros / 4000.0 == Approx(0.25).margin(0.03));
  ff::RandomOp grad("g", "dropout", 12, {}, 0.5f, 0.0f);
  fftest::MultiCheckSpec spec;
  spec.input_shapes = {{4, 6}};
  fftest::require_gradients_match(fftest::check_multi_input_gradients(grad, spec));
  ff::RandomOp noise("n", "random_normal", 13, {-1, 3}, 0.0f, 1.0f);
  noise.build({kNone, 3});
  ff::Tensor x = fftest::make_tensor({2, 3}, std::vector<float>(6, 1.0f));
  ff::Tensor y2 = ff::Tensor::zeros(fftest::device(), {2, 3});
  ff::Tensor dy = fftest::make_tensor({2, 3}, std::vector<float>(6, 1.0f));
  ff::Tensor dx = fftest::make_tensor({2, 3}, std::vector<float>(6, 9.0f));
  std::vector<ff::Tensor> scratch;
  noise.backward_multi({x}, y2, dy, {&dx}, scratch, fftest::simple_context(true));
  CHECK(fftest::to_vector(dx) == std::vector<float>(6, 0.0f));  // no gradient to the input
}

TEST_CASE("RandomOp: argument errors", "[ops][random]") {
  CHECK_THROWS_WITH(ff::RandomOp("d", "dropout", 1, {}, 1.0f, 0.0f),
                    Catch::Contains("rate must be in [0, 1)"));
  CHECK_THROWS_WITH(ff::RandomOp("u", "random_uniform", 1, {3}, 2.0f, 1.0f),
                    Catch::Contains("minval must be smaller than maxval"));
  CHECK_THROWS_WITH(ff::RandomOp("n", "random_normal", 1, {3}, 0.0f, -1.0f),
                    Catch::Contains("stddev a finite number >= 0"));
  CHECK_THROWS_WITH(ff::RandomOp("n", "random_normal", 1, {3, -1}, 0.0f, 1.0f),
                    Catch::Contains("the first may be None"));
  ff::RandomOp needs_batch("n", "random_normal", 1, {-1, 3}, 0.0f, 1.0f);
  needs_batch.set_input_batched(0, false);
  CHECK_THROWS_WITH(needs_batch.build({4}), Catch::Contains("takes the batch size of a batched"));
}
