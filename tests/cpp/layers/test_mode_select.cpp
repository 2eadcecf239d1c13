// ModeSelect (layers/mode_select.h) and the node modes it joins (Model::NodeMode): a custom
// layer whose call() traced one graph for training and another for inference. Directly: forward
// copies the pass's input, backward hands dy to the training input. In a model: training steps
// run only the training trace (the inference trace's weights get no gradient and do not move),
// evaluate and predict only the inference trace; the loss reported by each is its trace's.
#include <catch2/catch.hpp>

#include <memory>

#include "layers/dense.h"
#include "layers/mode_select.h"
#include "model/model.h"
#include "model_check.h"
#include "test_util.h"

TEST_CASE("ModeSelect: forward picks the pass's input, backward feeds the training one",
          "[layers][mode_select]") {
  ff::ModeSelect select("select", 1);
  CHECK(select.build_multi({{ff::kNone, 2}, {ff::kNone, 2}}) == ff::Shape{ff::kNone, 2});
  REQUIRE_THROWS_WITH(ff::ModeSelect("s", 1).build_multi({{ff::kNone, 2}, {ff::kNone, 3}}),
                      Catch::Contains("when training but"));
  ff::Tensor a = fftest::make_tensor({1, 2}, {1.0f, 2.0f});
  ff::Tensor b = fftest::make_tensor({1, 2}, {3.0f, 4.0f});
  ff::Tensor y = ff::Tensor::zeros(fftest::device(), {1, 2});
  std::vector<ff::Tensor> scratch;
  select.forward_multi({a, b}, y, scratch, fftest::simple_context(true));
  CHECK(fftest::to_vector(y) == std::vector<float>{1.0f, 2.0f});
  select.forward_multi({a, b}, y, scratch, fftest::simple_context(false));
  CHECK(fftest::to_vector(y) == std::vector<float>{3.0f, 4.0f});
  ff::Tensor dy = fftest::make_tensor({1, 2}, {0.5f, -0.5f});
  ff::Tensor da = ff::Tensor::zeros(fftest::device(), {1, 2});
  ff::Tensor db = fftest::make_tensor({1, 2}, {9.0f, 9.0f});
  select.backward_multi({a, b}, y, dy, {&da, &db}, scratch, fftest::simple_context(true));
  CHECK(fftest::to_vector(da) == std::vector<float>{0.5f, -0.5f});
  CHECK(fftest::to_vector(db) == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("ModeSelect: a model runs each trace in its own passes", "[model][mode_select]") {
  ff::Model m(fftest::backend());
  const int x = m.add_input({ff::kNone, 3});
  auto train_dense = std::make_shared<ff::Dense>("train_dense", 3, 2, "tanh", true,
                                                 "glorot_uniform", "zeros");
  auto infer_dense = std::make_shared<ff::Dense>("infer_dense", 4, 2, "linear", true,
                                                 "glorot_uniform", "zeros");
  const int t = m.add_node(train_dense, {x}, false, ff::NodeMode::TrainOnly);
  const int i = m.add_node(infer_dense, {x}, false, ff::NodeMode::InferOnly);
  const int y = m.add_node(std::make_shared<ff::ModeSelect>("select", 1), {t, i});
  m.set_outputs({y});
  m.finalize();
  fftest::compile_sgd(m, 0.1f);
  const std::vector<float> xv = fftest::philox_values(4 * 3, 1), yv = fftest::philox_values(8, 2);
  const auto xs = std::vector<ff::HostArray>{fftest::host_array(xv, {4, 3})};
  const auto ys = std::vector<ff::HostArray>{fftest::host_array(yv, {4, 2})};
  const std::vector<float> p0 = fftest::all_params(m);  // train kernel, bias, infer kernel, bias

  // model(x, training) computes each trace by hand.
  auto dense_out = [&](size_t first, bool tanh) {
    std::vector<float> k(6), b(2), out(8);
    m.get_parameter(first, k.data());
    m.get_parameter(first + 1, b.data());
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 2; ++c) {
        double z = b[c];
        for (int j = 0; j < 3; ++j) z += double(xv[r * 3 + j]) * k[j * 2 + c];
        out[r * 2 + c] = static_cast<float>(tanh ? std::tanh(z) : z);
      }
    return out;
  };
  std::vector<float> got(8);
  m.call(xs, true, {got.data()});
  const std::vector<float> want_train = dense_out(0, true);
  for (int k = 0; k < 8; ++k) CHECK(got[k] == Approx(want_train[k]).epsilon(1e-5));
  m.call(xs, false, {got.data()});
  const std::vector<float> want_infer = dense_out(2, false);
  for (int k = 0; k < 8; ++k) CHECK(got[k] == Approx(want_infer[k]).epsilon(1e-5));

  ff::LoopOptions loop;
  loop.batch_size = 4;
  double train_mse = 0, infer_mse = 0;
  for (int k = 0; k < 8; ++k) {
    train_mse += (double(want_train[k]) - yv[k]) * (double(want_train[k]) - yv[k]) / 8;
    infer_mse += (double(want_infer[k]) - yv[k]) * (double(want_infer[k]) - yv[k]) / 8;
  }
  CHECK(m.evaluate(xs, ys, loop)[0].second == Approx(infer_mse).epsilon(1e-5));
  const auto logs = m.train_epoch(xs, ys, {0, 1, 2, 3}, 0, loop);
  CHECK(logs[0].second == Approx(train_mse).epsilon(1e-5));
  const std::vector<float> p1 = fftest::all_params(m);
  CHECK(p1[0] != p0[0]);  // the training trace's Dense trained
  for (size_t k = 8; k < p0.size(); ++k) CHECK(p1[k] == p0[k]);  // the inference one did not
}
