// The graph engine of Model: gradients through skip connections, fan-out (a value read by several
// layers), views (Flatten) with fan-out, shared layers (one set of weights used twice), every merge
// layer and weighted losses of several outputs. The check is model-level: one SGD step with
// learning rate lr moves each parameter by -lr * gradient, and that gradient must match central
// finite differences of the loss that evaluate() reports.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/dense.h"
#include "layers/flatten.h"
#include "layers/merge.h"
#include "model/model.h"
#include "model_check.h"
#include "test_util.h"

namespace {


using fftest::philox_values;

std::shared_ptr<ff::Dense> dense(const char* name, int64_t units, const char* act = "tanh") {
  return std::make_shared<ff::Dense>(name, 11, units, act, true, "glorot_uniform", "random_normal");
}

ff::HostArray host(const std::vector<float>& v, ff::Shape shape) {
  return fftest::host_array(v, std::move(shape));
}

// Mean squared error on every output (weighted by `weights`), one SGD step, finite differences
// (tests/cpp/model_check.h).
void check_model_gradient(ff::Model& m, const std::vector<ff::HostArray>& xs,
                          const std::vector<ff::HostArray>& ys, const std::vector<float>& weights) {
  fftest::check_step_gradient(m, xs, ys, true, weights);
}

}  // namespace

TEST_CASE("Model: skip connection (a value read by two layers) sums its gradients", "[model][graph]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 3});
  int h = m.add_node(dense("h", 4), {x});
  int u = m.add_node(dense("u", 4), {h});
  int s = m.add_node(std::make_shared<ff::Add>("add", 1), {h, u});
  int out = m.add_node(dense("out", 2, "linear"), {s});
  m.set_outputs({out});
  m.finalize();
  auto xv = philox_values(5 * 3, 1), yv = philox_values(5 * 2, 2);
  check_model_gradient(m, {host(xv, {5, 3})}, {host(yv, {5, 2})}, {1.0f});
}

TEST_CASE("Model: a view with fan-out, Concatenate, Multiply and Average", "[model][graph]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 2, 3});
  int f = m.add_node(std::make_shared<ff::Flatten>("flatten", 1), {x});
  int a = m.add_node(dense("a", 3), {f});
  int b = m.add_node(dense("b", 3), {f});
  int c = m.add_node(dense("c", 2), {f});
  int prod = m.add_node(std::make_shared<ff::Multiply>("multiply", 1), {a, b});
  int avg = m.add_node(std::make_shared<ff::Average>("average", 1), {a, b, prod});
  int cat = m.add_node(std::make_shared<ff::Concatenate>("concatenate", 1, -1), {avg, c, f});
  int out = m.add_node(dense("out", 2, "linear"), {cat});
  m.set_outputs({out});
  m.finalize();
  CHECK(m.output_shape() == ff::Shape{ff::kNone, 2});
  CHECK(m.value_shape(cat) == ff::Shape{ff::kNone, 3 + 2 + 6});
  auto xv = philox_values(4 * 6, 3), yv = philox_values(4 * 2, 4);
  check_model_gradient(m, {host(xv, {4, 2, 3})}, {host(yv, {4, 2})}, {1.0f});
}

TEST_CASE("Model: a shared layer has one set of weights and sums the gradients of its uses",
          "[model][graph]") {
  ff::Model m(fftest::backend());
  int x1 = m.add_input({ff::kNone, 3});
  int x2 = m.add_input({ff::kNone, 3});
  auto shared = dense("shared", 4);
  int a = m.add_node(shared, {x1});
  int b = m.add_node(shared, {x2});
  int cat = m.add_node(std::make_shared<ff::Concatenate>("concatenate", 1, 1), {a, b});
  int out = m.add_node(dense("out", 1, "linear"), {cat});
  m.set_outputs({out});
  m.finalize();
  CHECK(m.layers().size() == 3);
  CHECK(m.param_count() == (3 * 4 + 4) + (8 * 1 + 1));
  auto x1v = philox_values(6 * 3, 5), x2v = philox_values(6 * 3, 6), yv = philox_values(6, 7);
  check_model_gradient(m, {host(x1v, {6, 3}), host(x2v, {6, 3})}, {host(yv, {6, 1})}, {1.0f});
}

TEST_CASE("Model: several outputs with weighted losses", "[model][graph]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 3});
  int h = m.add_node(dense("h", 4), {x});
  int o1 = m.add_node(dense("o1", 2, "linear"), {h});
  int o2 = m.add_node(dense("o2", 1, "linear"), {h});
  m.set_outputs({o1, o2});
  m.finalize();
  auto xv = philox_values(5 * 3, 8), y1 = philox_values(5 * 2, 9), y2 = philox_values(5, 10);
  check_model_gradient(m, {host(xv, {5, 3})}, {host(y1, {5, 2}), host(y2, {5, 1})}, {0.5f, 2.0f});
  // The total loss is the weighted sum of the per-output losses, which are logged too.
  ff::LoopOptions loop;
  loop.batch_size = 5;
  auto logs = m.evaluate({host(xv, {5, 3})}, {host(y1, {5, 2}), host(y2, {5, 1})}, loop);
  REQUIRE(logs.size() == 3);
  CHECK(logs[1].first == "out0_loss");
  CHECK(logs[2].first == "out1_loss");
  CHECK(logs[0].second == Approx(0.5 * logs[1].second + 2.0 * logs[2].second));
}

TEST_CASE("Model: graph errors name the layers and shapes", "[model][graph]") {
  ff::Model m(fftest::backend());
  int x = m.add_input({ff::kNone, 3});
  int a = m.add_node(dense("a", 4), {x});
  int b = m.add_node(dense("b", 5), {x});
  CHECK_THROWS_WITH(m.add_node(std::make_shared<ff::Add>("add", 1), {a, b}),
                    Catch::Contains("does not broadcast") && Catch::Contains("(None, 4)") &&
                        Catch::Contains("(None, 5)"));
  CHECK_THROWS_WITH(m.add_node(std::make_shared<ff::Add>("add_1", 1), {a}),
                    Catch::Contains("at least 2 inputs"));
  CHECK_THROWS_WITH(m.add_node(dense("c", 2), {a, b}), Catch::Contains("takes one input"));
  CHECK_THROWS_WITH(m.add_node(std::make_shared<ff::Concatenate>("cat", 1, 0), {a, b}),
                    Catch::Contains("batch axis"));
  CHECK_THROWS_WITH(m.set_outputs({a, a}), Catch::Contains("listed twice"));
  m.set_outputs({a, b});
  m.finalize();
  CHECK_THROWS_WITH(m.check_inputs({{8, 4}}), Catch::Contains("Input 0 of layer \"a\"") &&
                                                  Catch::Contains("found shape=(8, 4)"));
}
