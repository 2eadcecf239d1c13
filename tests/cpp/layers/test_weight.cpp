// Weight (layers/weight.h): a custom layer's weight as a value of the model's graph, read by op
// layers like any input. Checked at model level against a NumPy-free double reference and by
// finite differences of the loss (model_check.h): a weight read by several ops (and twice by one
// op) gets the sum of their gradients in its one parameter slot; a non-trainable weight lives in
// the state buffer and never moves; ops on weights alone give values without a batch axis; a
// layer that is not an op refuses a weight; a weight added twice is one value.
#include <catch2/catch.hpp>

#include <memory>

#include "core/errors.h"
#include "layers/dense.h"
#include "layers/ops/elementwise_op.h"
#include "layers/ops/matmul_op.h"
#include "layers/ops/reduce_op.h"
#include "layers/weight.h"
#include "model/model.h"
#include "model_check.h"
#include "test_util.h"

using ff::OpOperand;

namespace {

std::shared_ptr<ff::Weight> weight(const char* name, ff::Shape shape, bool trainable = true,
                                   const char* init = "glorot_uniform") {
  return std::make_shared<ff::Weight>(std::string("linear/") + name, 5, name, std::move(shape),
                                      init, trainable);
}

std::shared_ptr<ff::BinaryOp> binary(const char* name, const char* op, bool a_batched,
                                     bool b_batched) {
  return std::make_shared<ff::BinaryOp>(
      name, op, 1,
      std::vector<OpOperand>{a_batched ? OpOperand::input() : OpOperand::unbatched_input(),
                             b_batched ? OpOperand::input() : OpOperand::unbatched_input()});
}

std::shared_ptr<ff::MatmulOp> matmul(const char* name, bool b_batched = false) {
  return std::make_shared<ff::MatmulOp>(
      name, 1,
      std::vector<OpOperand>{OpOperand::input(),
                             b_batched ? OpOperand::input() : OpOperand::unbatched_input()});
}

}  // namespace

TEST_CASE("Weight: ops on a custom layer's weights compute x @ w + b and train",
          "[model][weight]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  const int w = m.add_weight(weight("w", {3, 2}));
  const int b = m.add_weight(weight("b", {2}, true, "random_normal"));
  CHECK_FALSE(m.value_batched(w));
  CHECK(m.value_shape(w) == ff::Shape{3, 2});
  const int xw = m.add_node(matmul("matmul"), {x, w});
  const int y = m.add_node(binary("add", "add", true, false), {xw, b});
  m.set_outputs({y});
  m.finalize();
  CHECK(m.output_shape() == ff::Shape{ff::kNone, 2});
  CHECK(m.param_count() == 8);  // one slot per weight element
  const std::vector<float> wv = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f}, bv = {0.1f, -0.2f};
  m.set_parameter(0, wv.data());
  m.set_parameter(1, bv.data());
  const std::vector<float> xv = fftest::philox_values(4 * 3, 1);
  std::vector<float> out(8);
  m.call({fftest::host_array(xv, {4, 3})}, false, {out.data()});
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c) {
      double ref = bv[c];
      for (int k = 0; k < 3; ++k) ref += double(xv[r * 3 + k]) * wv[k * 2 + c];
      CHECK(out[r * 2 + c] == Approx(ref).epsilon(1e-6));
    }
  const std::vector<float> yv = fftest::philox_values(4 * 2, 2);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {4, 3})},
                              {fftest::host_array(yv, {4, 2})});
}

TEST_CASE("Weight: a weight read by several ops (twice by one) sums their gradients",
          "[model][weight]") {
  // y = x @ w + x @ (w * w): w is read by three node inputs, two of them one node's
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 2});
  const int w = m.add_weight(weight("w", {2, 2}));
  CHECK(m.add_weight(std::dynamic_pointer_cast<ff::Weight>(m.layers().back())) == w);
  const int xw = m.add_node(matmul("matmul"), {x, w});
  const int ww = m.add_node(binary("square", "multiply", false, false), {w, w});  // read twice
  CHECK_FALSE(m.value_batched(ww));
  const int xww = m.add_node(matmul("matmul_1"), {x, ww});
  const int y = m.add_node(binary("add", "add", true, true), {xw, xww});
  m.set_outputs({y});
  m.finalize();
  CHECK(m.param_count() == 4);
  const std::vector<float> xv = fftest::philox_values(5 * 2, 3), yv = fftest::philox_values(10, 4);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {5, 2})},
                              {fftest::host_array(yv, {5, 2})});
}

TEST_CASE("Weight: a loss on weights alone (a value without a batch axis)", "[model][weight]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  const int w = m.add_weight(weight("w", {3, 1}));
  const int y = m.add_node(matmul("matmul"), {x, w});
  // (a single-input op makes its operand itself: it is marked before it is built)
  auto square = std::make_shared<ff::UnaryOp>("square", "square", 1);
  square->set_input_batched(0, false);
  const int sq = m.add_node(square, {w});
  auto sum = std::make_shared<ff::ReduceOp>("sum", "sum", 1, std::vector<int64_t>{}, true, false);
  sum->set_input_batched(0, false);  // over every axis: allowed, there is no batch axis
  const int total = m.add_node(sum, {sq});
  CHECK(m.value_shape(total) == ff::Shape{});
  ff::PenaltySpec term;
  term.linear = 0.5f;
  m.add_loss_term(total, term);
  m.set_outputs({y});
  m.finalize();
  CHECK(m.has_added_losses());
  const std::vector<float> xv = fftest::philox_values(6 * 3, 5), yv = fftest::philox_values(6, 6);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {6, 3})},
                              {fftest::host_array(yv, {6, 1})});
}

TEST_CASE("Weight: a non-trainable weight is state, never updated", "[model][weight]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 2});
  const int w = m.add_weight(weight("w", {2}));
  const int s = m.add_weight(weight("scale", {2}, false, "ones"));
  const int xw = m.add_node(binary("mul", "multiply", true, false), {x, w});
  const int y = m.add_node(binary("mul_1", "multiply", true, false), {xw, s});
  m.set_outputs({y});
  m.finalize();
  CHECK(m.param_count() == 2);
  CHECK(m.state_count() == 2);
  fftest::compile_sgd(m, 0.1f);
  const std::vector<float> xv = fftest::philox_values(4 * 2, 7), yv = fftest::philox_values(8, 8);
  const std::vector<float> before = fftest::all_params(m);
  ff::LoopOptions loop;
  loop.batch_size = 4;
  m.train_epoch({fftest::host_array(xv, {4, 2})}, {fftest::host_array(yv, {4, 2})}, {0, 1, 2, 3},
                0, loop);
  const std::vector<float> after = fftest::all_params(m);
  CHECK(after[0] != before[0]);  // w trained
  CHECK(after[2] == 1.0f);       // scale untouched
  CHECK(after[3] == 1.0f);
}

TEST_CASE("Weight: only ops read weights, shapes and names checked", "[model][weight]") {
  ff::Model m(fftest::backend());
  m.add_input({ff::kNone, 3});
  const int w = m.add_weight(weight("w", {4, 3}));
  auto dense = std::make_shared<ff::Dense>("dense", 1, 2, "linear", true, "glorot_uniform",
                                           "zeros");
  REQUIRE_THROWS_AS(m.add_node(dense, {w}), ff::ValueError);
  try {
    m.add_node(std::make_shared<ff::Dense>("dense_1", 1, 2, "linear", true, "glorot_uniform",
                                           "zeros"),
               {w});
  } catch (const ff::ValueError& e) {
    CHECK_THAT(e.what(), Catch::Contains("dense_1") && Catch::Contains("without a batch axis") &&
                             Catch::Contains("(4, 3)"));
  }
  // A weight of shape (4, 3) cannot broadcast against a batch (None, 3) along axis 0.
  REQUIRE_THROWS_WITH(m.add_node(binary("add", "add", true, false), {0, w}),
                      Catch::Contains("None is the batch size"));
  // Another weight of the same name in one model.
  REQUIRE_THROWS_WITH(m.add_weight(weight("w", {1})), Catch::Contains("unique names"));
  REQUIRE_THROWS_AS(ff::Weight("bad", 1, "w", {-1}, "zeros", true), ff::ValueError);
  REQUIRE_THROWS_WITH(ff::Weight("bad", 1, "w", {2}, "nope", true),
                      Catch::Contains("Unknown initializer"));
}

TEST_CASE("Weight: standalone values carry into the model that uses them", "[model][weight]") {
  auto w = weight("w", {2});
  w->create_weights(fftest::device());
  const std::vector<float> v = {3.0f, -4.0f};
  fftest::fill(w->weights()[0], v);
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 2});
  const int y = m.add_node(binary("mul", "multiply", true, false), {x, m.add_weight(w)});
  m.set_outputs({y});
  m.finalize();
  std::vector<float> got(2);
  m.get_parameter(0, got.data());
  CHECK(got == v);
}
