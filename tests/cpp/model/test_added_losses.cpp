// A model's added losses (Model::add_loss_term: add_loss values, activity regularizers) and
// weight regularizers (Layer::set_weight_regularizer, ParamSpec::l1/l2): the reported loss is the
// compiled loss plus each term against a double reference, the gradients (one SGD step) match
// finite differences of that loss, a frozen layer's regularizer is left out (Keras regularizes
// trainable weights), a model with only added losses trains without a compiled loss, each
// batch's term is weighted by its size in the epoch's loss, and a model with no loss at all is
// refused before any step.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "core/errors.h"
#include "layers/dense.h"
#include "model/model.h"
#include "model_check.h"
#include "test_util.h"

namespace {

std::shared_ptr<ff::Dense> dense(const char* name, int64_t units, const char* act = "tanh") {
  return std::make_shared<ff::Dense>(name, 11, units, act, true, "glorot_uniform",
                                     "random_normal");
}

ff::PenaltySpec penalty(float linear, float l1, float l2) {
  ff::PenaltySpec p;
  p.linear = linear;
  p.l1 = l1;
  p.l2 = l2;
  return p;
}

double mse(const std::vector<float>& pred, const std::vector<float>& y) {
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += (double(pred[i]) - y[i]) * (double(pred[i]) - y[i]);
  return s / static_cast<double>(y.size());
}

}  // namespace

TEST_CASE("added losses: activity terms on a hidden value, their gradients", "[model][losses]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  const int h = m.add_node(dense("h", 4), {x});
  const int y = m.add_node(dense("out", 2, "linear"), {h});
  m.add_loss_term(h, penalty(0.0f, 0.05f, 0.1f));  // an activity regularizer
  m.add_loss_term(h, penalty(0.3f, 0.0f, 0.0f));   // add_loss(0.3 * sum(h))
  m.set_outputs({y});
  m.finalize();
  const std::vector<float> xv = fftest::philox_values(5 * 3, 1), yv = fftest::philox_values(10, 2);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {5, 3})},
                              {fftest::host_array(yv, {5, 2})});
}

TEST_CASE("added losses: the reported loss is the compiled loss plus the terms",
          "[model][losses]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 2});
  auto d = dense("d", 2, "linear");
  const int y = m.add_node(d, {x});
  d->set_weight_regularizer("kernel", 0.01f, 0.02f);
  d->set_weight_regularizer("bias", 0.0f, 0.5f);
  m.add_loss_term(y, penalty(1.0f, 0.0f, 0.0f));
  m.set_outputs({y});
  m.finalize();
  fftest::compile_sgd(m, 0.0f);  // a zero rate: evaluate and train see the same weights
  const std::vector<float> kernel = {0.5f, -1.0f, 2.0f, 0.25f}, bias = {0.1f, -0.3f};
  m.set_parameter(0, kernel.data());
  m.set_parameter(1, bias.data());
  // Batches of 3 and 1: the added term is each batch's value weighted by its size.
  const std::vector<float> xv = {1, 2, -1, 0.5f, 0, 1, 2, -2};
  const std::vector<float> yv = {0, 1, 1, 0, -1, 2, 0.5f, 0.5f};
  std::vector<float> pred(8);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c)
      pred[r * 2 + c] = bias[c] + xv[r * 2] * kernel[c] + xv[r * 2 + 1] * kernel[2 + c];
  double reg = 0.0;
  for (float k : kernel) reg += 0.01 * std::fabs(k) + 0.02 * double(k) * k;
  for (float b : bias) reg += 0.5 * double(b) * b;
  auto batch_sum = [&](int r0, int r1) {
    double s = 0;
    for (int i = r0 * 2; i < r1 * 2; ++i) s += pred[i];
    return s;
  };
  const double expected = mse(pred, yv) + reg + (3 * batch_sum(0, 3) + 1 * batch_sum(3, 4)) / 4.0;
  ff::LoopOptions loop;
  loop.batch_size = 3;
  const auto logs = m.evaluate({fftest::host_array(xv, {4, 2})}, {fftest::host_array(yv, {4, 2})},
                               loop);
  CHECK(logs[0].first == "loss");
  CHECK(logs[0].second == Approx(expected).epsilon(1e-6));
  const auto train = m.train_epoch({fftest::host_array(xv, {4, 2})},
                                   {fftest::host_array(yv, {4, 2})}, {0, 1, 2, 3}, 0, loop);
  CHECK(train[0].second == Approx(expected).epsilon(1e-6));
}

TEST_CASE("added losses: weight regularizers' gradients, and frozen layers left out",
          "[model][losses]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  auto a = dense("a", 3);
  auto b = dense("b", 2, "linear");
  a->set_weight_regularizer("kernel", 0.05f, 0.2f);
  b->set_weight_regularizer("bias", 0.1f, 0.0f);
  const int y = m.add_node(b, {m.add_node(a, {x})});
  m.set_outputs({y});
  m.finalize();
  CHECK(m.has_added_losses());
  const std::vector<float> xv = fftest::philox_values(4 * 3, 3), yv = fftest::philox_values(8, 4);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {4, 3})},
                              {fftest::host_array(yv, {4, 2})});
  // Frozen, a's kernel penalty leaves the loss: evaluate drops by exactly that term.
  ff::LoopOptions loop;
  loop.batch_size = 4;
  const auto xs = std::vector<ff::HostArray>{fftest::host_array(xv, {4, 3})};
  const auto ys = std::vector<ff::HostArray>{fftest::host_array(yv, {4, 2})};
  const double with = m.evaluate(xs, ys, loop)[0].second;
  std::vector<float> kernel(9);
  m.get_parameter(0, kernel.data());
  double term = 0.0;
  for (float k : kernel) term += 0.05 * std::fabs(k) + 0.2 * double(k) * k;
  a->trainable = false;
  CHECK(m.evaluate(xs, ys, loop)[0].second == Approx(with - term).epsilon(1e-6));
  REQUIRE_THROWS_WITH(
      [] {
        ff::Model bad(fftest::backend());
        const int in = bad.add_input({ff::kNone, 2});
        auto d = dense("d", 1);
        d->set_weight_regularizer("gamma", 0.1f, 0.0f);
        bad.set_outputs({bad.add_node(d, {in})});
        bad.finalize();
      }(),
      Catch::Contains("no weight \"gamma\""));
}

TEST_CASE("added losses: a model trains on them alone, and with no loss at all it is refused",
          "[model][losses]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  const int h = m.add_node(dense("h", 2), {x});
  m.add_loss_term(h, penalty(0.0f, 0.0f, 1.0f));
  m.set_outputs({h});
  m.finalize();
  const std::vector<float> xv = fftest::philox_values(4 * 3, 5);
  fftest::check_step_gradient(m, {fftest::host_array(xv, {4, 3})}, {ff::HostArray{}},
                              /*with_loss=*/false);

  ff::Model none(fftest::backend());
  const int in = none.add_input({ff::kNone, 3});
  none.set_outputs({none.add_node(dense("h", 2), {in})});
  none.finalize();
  fftest::compile_sgd(none, 0.1f, false);
  ff::LoopOptions loop;
  REQUIRE_THROWS_WITH(none.evaluate({fftest::host_array(xv, {4, 3})}, {ff::HostArray{}}, loop),
                      Catch::Contains("No loss to compute"));
}
