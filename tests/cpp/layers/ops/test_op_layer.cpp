// Op layers in a model (layers/ops/op_layer.h): a functional graph mixing layers and ops (a
// residual relu, a broadcast constant, a reshape view, x * x, a softmax head, a reduction)
// trains; a graph of every op family passes the model-level gradient check (one SGD step
// against finite differences of evaluate's loss); the same training on the emulated GPU replays
// captured steps with the CPU's bits (constants put on the device in the warm-up step); a
// one_hot error recorded inside a step is raised naming the op; eager runs need an input.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "core/errors.h"
#include "emulated_gpu.h"
#include "layers/dense.h"
#include "layers/ops/elementwise_op.h"
#include "layers/ops/matmul_op.h"
#include "layers/ops/reduce_op.h"
#include "layers/ops/shape_op.h"
#include "model/model.h"
#include "model_check.h"
#include "op_test_util.h"

using ff::kNone;
using ff::OpOperand;

namespace {

std::shared_ptr<ff::Dense> dense(const char* name, int64_t units, const char* act = "tanh") {
  return std::make_shared<ff::Dense>(name, 11, units, act, true, "glorot_uniform", "random_normal");
}
std::shared_ptr<ff::BinaryOp> binary(const char* name, const char* op,
                                     std::vector<OpOperand> operands) {
  return std::make_shared<ff::BinaryOp>(name, op, 1, std::move(operands));
}

// x (None, 4) -> h = dense(x); r = x + relu(h) * [1, -1, .5, 2]; v = reshape(r, (-1, 2, 2));
// s = sum(v * v, axis=-1) (None, 2); out = softmax(dense(s)) and a second output mean(r, -1).
std::unique_ptr<ff::Model> residual_model(ff::Backend& be) {
  auto m = std::make_unique<ff::Model>(be);
  const OpOperand in = OpOperand::input();
  int x = m->add_input({kNone, 4});
  int h = m->add_node(dense("h", 4), {x});
  int r = m->add_node(std::make_shared<ff::UnaryOp>("relu", "relu", 1), {h});
  int c = m->add_node(binary("scale", "multiply", {in, OpOperand::constant({4}, {1, -1, 0.5f, 2})}), {r});
  int res = m->add_node(binary("add", "add", {in, in}), {x, c});
  int v = m->add_node(std::make_shared<ff::ReshapeOp>("reshape", "reshape", 1, ff::Shape{-1, 2, 2},
                                                      std::vector<int64_t>{}, false), {res});
  int sq = m->add_node(binary("square", "multiply", {in, in}), {v, v});
  int s = m->add_node(std::make_shared<ff::ReduceOp>("sum", "sum", 1, std::vector<int64_t>{-1},
                                                     false, false), {sq});
  int logits = m->add_node(dense("logits", 3, "linear"), {s});
  int out = m->add_node(std::make_shared<ff::SoftmaxOp>("softmax", "softmax", 1, -1), {logits});
  int avg = m->add_node(std::make_shared<ff::ReduceOp>("mean", "mean", 1, std::vector<int64_t>{1},
                                                       false, true), {res});
  m->set_outputs({out, avg});
  m->finalize();
  std::vector<ff::OutputSpec> specs(2);
  specs[0].name = "out";
  specs[0].loss = ff::make_categorical_crossentropy(false);
  specs[1].name = "avg";
  specs[1].loss = ff::make_mean_squared_error();
  ff::OptimizerOptions opt;
  opt.learning_rate = 0.05f;
  m->compile(specs, ff::make_sgd(opt, {}));
  return m;
}

struct Data {
  std::vector<float> x, y, t;
  Data() : x(fftest::uniform_values(40 * 4, 3, -1, 1)), y(40 * 3, 0.0f), t(40) {
    for (int i = 0; i < 40; ++i) {
      y[i * 3 + (x[i * 4] > 0 ? 0 : (x[i * 4 + 1] > 0 ? 1 : 2))] = 1.0f;
      t[i] = 0.5f * x[i * 4 + 2];
    }
  }
  std::vector<ff::HostArray> xs() const { return {{x.data(), {40, 4}, ff::DType::Float32}}; }
  std::vector<ff::HostArray> ys() const {
    return {{y.data(), {40, 3}, ff::DType::Float32}, {t.data(), {40, 1}, ff::DType::Float32}};
  }
};

struct Trained {
  std::vector<double> losses;
  std::vector<float> weights;
  ff::Model::GraphStats stats;
};

Trained train(ff::Backend& be, int epochs) {
  auto m = residual_model(be);
  const Data d;
  ff::LoopOptions loop;
  loop.batch_size = 16;  // two full batches and one of 8: two signatures
  Trained t;
  for (int e = 0; e < epochs; ++e)
    t.losses.push_back(
        m->train_epoch(d.xs(), d.ys(), ff::Model::shuffled_order(40, 1, e), e, loop)[0].second);
  t.weights = fftest::all_params(*m);
  t.stats = m->graph_stats();
  return t;
}

// Every op family in one graph: x (None, 4) -> d = dense(x) -> r = x * [consts] + d;
// w = where(r > 0, r, r * 0.1); m = maximum(w, d) / 2; v = reshape(m, (-1, 2, 2));
// sm = softmax(v, axis=1); t = transpose(sm, (0, 2, 1)); lm = log_softmax(t, -1);
// cat = concatenate([reshape(lm, (-1, 4)), sum(v * v, -1)], 1) (None, 6);
// piece = split piece [1, 5) of cat; p = piece @ W (4, 3) const; out = dense(p) linear.
std::unique_ptr<ff::Model> every_op_model(ff::Backend& be) {
  auto m = std::make_unique<ff::Model>(be);
  const OpOperand in = OpOperand::input();
  auto reshape = [](const char* name, ff::Shape target) {
    return std::make_shared<ff::ReshapeOp>(name, "reshape", 1, std::move(target),
                                           std::vector<int64_t>{}, false);
  };
  int x = m->add_input({kNone, 4});
  int d = m->add_node(dense("d", 4), {x});
  int c = m->add_node(binary("c", "multiply", {in, OpOperand::constant({4}, {1, -1, 0.5f, 2})}), {x});
  int r = m->add_node(binary("r", "add", {in, in}), {c, d});
  int pos = m->add_node(binary("pos", "greater", {in, OpOperand::of_scalar(0)}), {r});
  int small = m->add_node(binary("small", "multiply", {in, OpOperand::of_scalar(0.1f)}), {r});
  int w = m->add_node(std::make_shared<ff::WhereOp>("where", 1, std::vector<OpOperand>{in, in, in}),
                      {pos, r, small});
  int mx = m->add_node(binary("mx", "maximum", {in, in}), {w, d});
  int half = m->add_node(binary("half", "divide", {in, OpOperand::of_scalar(2)}), {mx});
  int v = m->add_node(reshape("v", {-1, 2, 2}), {half});
  int sm = m->add_node(std::make_shared<ff::SoftmaxOp>("sm", "softmax", 1, 1), {v});
  int t = m->add_node(std::make_shared<ff::TransposeOp>("t", 1, std::vector<int64_t>{0, 2, 1},
                                                        false), {sm});
  int lm = m->add_node(std::make_shared<ff::SoftmaxOp>("lm", "log_softmax", 1, -1), {t});
  int flat = m->add_node(reshape("flat", {-1, 4}), {lm});
  int vv = m->add_node(binary("vv", "multiply", {in, in}), {v, v});
  int ss = m->add_node(std::make_shared<ff::ReduceOp>("ss", "sum", 1, std::vector<int64_t>{-1},
                                                      false, false), {vv});
  int cat = m->add_node(std::make_shared<ff::ConcatOp>("cat", "concatenate", 1,
                                                       std::vector<OpOperand>{in, in}, 1),
                        {flat, ss});
  int piece = m->add_node(std::make_shared<ff::SliceOp>("piece", 1, 1, 1, 5), {cat});
  int p = m->add_node(std::make_shared<ff::MatmulOp>(
                          "p", 1, std::vector<OpOperand>{in, OpOperand::constant(
                                                                 {4, 3}, fftest::uniform_values(12, 8, -1, 1))}),
                      {piece});
  int out = m->add_node(dense("out", 2, "linear"), {p});
  m->set_outputs({out});
  m->finalize();
  return m;
}

}  // namespace

TEST_CASE("OpLayer: a graph of every op family passes the model-level gradient check",
          "[ops][model][gradient]") {
  auto m = every_op_model(fftest::backend());
  CHECK(m->output_shape() == ff::Shape{kNone, 2});
  const std::vector<float> xv = fftest::uniform_values(6 * 4, 21, -1, 1);
  const std::vector<float> yv = fftest::uniform_values(6 * 2, 22, -1, 1);
  fftest::check_step_gradient(*m, {fftest::host_array(xv, {6, 4})},
                              {fftest::host_array(yv, {6, 2})});
}

TEST_CASE("OpLayer: a model mixing layers and ops builds and trains and learns", "[ops][model]") {
  auto m = residual_model(fftest::backend());
  CHECK(m->output_shape(0) == ff::Shape{kNone, 3});
  CHECK(m->output_shape(1) == ff::Shape{kNone, 1});
  CHECK(m->value_shape(5) == ff::Shape{kNone, 2, 2});
  const Trained t = train(fftest::backend(), 30);
  INFO("first loss " << t.losses.front() << ", last " << t.losses.back());
  CHECK(t.losses.back() < 0.7 * t.losses.front());
}

TEST_CASE("OpLayer: the emulated GPU replays captured steps with the CPU's bits",
          "[ops][model][emulated]") {
  const Trained cpu = train(ff::backend_for(ff::DeviceType::CPU), 3);
  const Trained gpu = train(fftest::emulated_gpu_backend(), 3);
  CHECK(cpu.losses == gpu.losses);
  CHECK(cpu.weights == gpu.weights);
  CHECK(gpu.stats.fallbacks == 0);
  CHECK(gpu.stats.last_error == "");
  CHECK(gpu.stats.launches > 0);
}

TEST_CASE("OpLayer: a one_hot index error inside a step names the op", "[ops][model]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({kNone});
  int oh = m.add_node(std::make_shared<ff::OneHotOp>("one_hot", 1, 3), {x});
  int out = m.add_node(dense("out", 2, "linear"), {oh});
  m.set_outputs({out});
  m.finalize();
  std::vector<float> xs = {0, 1, 7, 2};
  std::vector<float> ys(8, 0.0f);
  std::vector<ff::OutputSpec> specs(1);
  specs[0].name = "out";
  specs[0].loss = ff::make_mean_squared_error();
  m.compile(specs, ff::make_sgd({}, {}));
  ff::LoopOptions loop;
  loop.batch_size = 4;
  const std::string msg = fftest::ops::error_of([&] {
    m.evaluate({{xs.data(), {4}, ff::DType::Float32}}, {{ys.data(), {4, 2}, ff::DType::Float32}},
               loop);
  });
  CHECK_THAT(msg, Catch::Contains("ff.ops.one_hot"));
  CHECK_THAT(msg, Catch::Contains("7.0"));
}

TEST_CASE("OpLayer: an op needs a tensor operand - a model output keeps the batch", "[ops]") {
  CHECK_THROWS_AS(ff::BinaryOp("add", "add", 1, {OpOperand::of_scalar(1), OpOperand::of_scalar(2)}),
                  ff::ValueError);
  ff::Model m(fftest::backend());
  int x = m.add_input({kNone, 3});
  // A reduction over the batch is a value without a batch axis (a loss term's): not an output.
  const int total = m.add_node(
      std::make_shared<ff::ReduceOp>("sum", "sum", 1, std::vector<int64_t>{}, true, false), {x});
  CHECK_FALSE(m.value_batched(total));
  CHECK(m.value_shape(total) == ff::Shape{});
  CHECK_THAT(fftest::ops::error_of([&] { m.set_outputs({total}); }),
             Catch::Contains("no batch axis"));
}
