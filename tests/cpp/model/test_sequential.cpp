// Tests for model/sequential.cpp and trainer.cpp: one contiguous parameter buffer, shape errors
// before any allocation, training that converges, predict == call, bit-identical runs from the
// same global seed, end-to-end gradients through aliasing layers (shared finite-difference
// helper), check-numerics naming the layer/pass/step, and bad labels naming value and sample.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/numerics.h"
#include "core/rng.h"
#include "gradient_check.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/reshape.h"
#include "model/sequential.h"
#include "test_util.h"

using namespace fftest;

namespace {

std::shared_ptr<ff::Dense> dense(const std::string& name, int64_t units,
                                 const std::string& act = "linear", bool bias = true) {
  return std::make_shared<ff::Dense>(name, ff::GlobalSeed::next(), units, act, bias,
                                     "glorot_uniform", "zeros");
}

ff::HostArray host(const std::vector<float>& v, ff::Shape shape) {
  return {v.data(), std::move(shape), ff::DType::Float32};
}
ff::HostArray host(const std::vector<int64_t>& v, ff::Shape shape) {
  return {v.data(), std::move(shape), ff::DType::Int64};
}

ff::LoopOptions batches(int64_t n) {
  ff::LoopOptions o;
  o.batch_size = n;
  return o;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct CheckNumericsOn {
  CheckNumericsOn() { ff::CheckNumerics::set(true); }
  ~CheckNumericsOn() { ff::CheckNumerics::set(false); }
};

}  // namespace

TEST_CASE("Sequential: build lays all parameters out in one contiguous buffer", "[model]") {
  ff::Sequential m(fftest::backend());
  m.add(dense("d0", 8, "relu"));
  m.add(std::make_shared<ff::Dropout>("drop", 1, 0.5f));
  m.add(dense("d1", 3, "linear", false));
  m.add(dense("d2", 1));
  CHECK_FALSE(m.built());
  CHECK(m.param_count() == 0);
  m.build({ff::kNone, 4});
  REQUIRE(m.built());
  CHECK(m.output_shape() == ff::Shape{ff::kNone, 1});
  CHECK(m.param_count() == 4 * 8 + 8 + 8 * 3 + 3 + 1);
  const auto& ps = m.parameters();
  REQUIRE(ps.size() == 5);
  CHECK(ps[0].spec.name == "kernel");
  CHECK(ps[1].spec.name == "bias");
  CHECK(ps[2].layer == 2);
  for (size_t i = 1; i < ps.size(); ++i) {
    INFO("parameter " << i);
    CHECK(static_cast<const char*>(ps[i].value.raw()) ==
          static_cast<const char*>(ps[i - 1].value.raw()) + ps[i - 1].value.nbytes());
  }
  // Layers hold views of the same buffer; gradients have the same layout.
  CHECK(m.layers()[0]->params()[0].raw() == ps[0].value.raw());
  CHECK(m.layers()[2]->params()[0].raw() == ps[2].value.raw());
  CHECK(m.layers()[1]->params().empty());
  const auto& g0 = m.layers()[0]->grads();
  const auto& g2 = m.layers()[2]->grads();
  REQUIRE(g0.size() == 2);
  CHECK(static_cast<const char*>(g0[1].raw()) == static_cast<const char*>(g0[0].raw()) + 32 * 4);
  CHECK(static_cast<const char*>(g2[0].raw()) == static_cast<const char*>(g0[1].raw()) + 8 * 4);
  // Initialised: kernels glorot (non-zero), biases zeros.
  std::vector<float> k(32), b(8);
  m.get_parameter(0, k.data());
  m.get_parameter(1, b.data());
  CHECK(std::count(k.begin(), k.end(), 0.0f) == 0);
  CHECK(std::count(b.begin(), b.end(), 0.0f) == 8);
  // Rebuilding with the same shape is a no-op; another shape raises naming the first layer.
  m.build({16, 4});
  CHECK(ps[0].value.raw() == m.parameters()[0].value.raw());
  CHECK_THROWS_WITH(m.build({ff::kNone, 5}), Catch::Contains("Input 0 of layer \"d0\""));
}

TEST_CASE("Sequential: each parameter draws its initial values from its own stream", "[model]") {
  ff::Sequential m(fftest::backend());
  m.add(std::make_shared<ff::Dense>("dense", 99, 4, "linear", true, "random_uniform",
                                    "random_uniform"));
  m.build({ff::kNone, 1});
  std::vector<float> k(4), b(4);
  m.get_parameter(0, k.data());
  m.get_parameter(1, b.data());
  CHECK(k != b);  // same initializer and shape-independent limit: only the stream differs
  ff::Sequential again(fftest::backend());
  again.add(std::make_shared<ff::Dense>("dense", 99, 4, "linear", true, "random_uniform",
                                        "random_uniform"));
  again.build({ff::kNone, 1});
  CHECK(bit_identical(all_params(again), all_params(m)));  // ... and depends only on the seed
}

TEST_CASE("Sequential: shape errors come before any allocation", "[model]") {
  ff::Sequential m(fftest::backend());
  m.add(dense("dense", 6));
  m.add(std::make_shared<ff::Reshape>("reshape", 1, ff::Shape{4, -1}));
  m.add(dense("dense_1", 2));
  CHECK_THROWS_AS(m.build({ff::kNone, 3}), ff::ValueError);
  CHECK_THROWS_WITH(m.build({ff::kNone, 3}), Catch::Contains("Input 0 of layer \"reshape\"") &&
                                                  Catch::Contains("found shape=(None, 6)"));
  CHECK_FALSE(m.built());
  CHECK(m.param_count() == 0);
  CHECK(m.parameters().empty());
  CHECK(m.layers()[0]->params().empty());
  CHECK(m.layers()[2]->params().empty());

  ff::Sequential empty(fftest::backend());
  CHECK_THROWS_AS(empty.build({ff::kNone, 3}), ff::ValueError);
  ff::Sequential dup(fftest::backend());
  dup.add(dense("same", 2));
  CHECK_THROWS_WITH(dup.add(dense("same", 2)), Catch::Contains("unique names"));
}

TEST_CASE("Sequential: a tiny regression converges with train_epoch", "[model][train]") {
  ff::GlobalSeed::set(3);
  const int64_t n = 64;
  const auto x = uniform_values(2 * n, 1, -1.0f, 1.0f);
  std::vector<float> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = 2.0f * x[2 * i] - 3.0f * x[2 * i + 1] + 0.5f;
  ff::Sequential m(fftest::backend());
  m.add(dense("dense", 1));
  m.build({ff::kNone, 2});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({0.1f}, {}),
            {std::shared_ptr<ff::Metric>(ff::make_mean_error("mae", 1))});
  CHECK(m.metric_names() == std::vector<std::string>{"loss", "mae"});
  // y of shape (N,) against outputs (N, 1): one column, never an (N, N) broadcast.
  const auto X = host(x, {n, 2});
  const auto Y = host(y, {n});
  const auto before = m.evaluate(X, Y, batches(16));
  std::vector<double> losses;
  for (int64_t epoch = 0; epoch < 40; ++epoch) {
    const auto logs = m.train_epoch(X, Y, ff::Sequential::shuffled_order(n, 5, epoch), epoch,
                                    batches(16));
    REQUIRE(logs.size() == 2);
    CHECK(logs[0].first == "loss");
    losses.push_back(logs[0].second);
  }
  CHECK(m.train_steps() == 40 * 4);
  CHECK(losses.back() < losses.front() * 0.01);
  for (size_t i = 5; i < losses.size(); i += 5) CHECK(losses[i] < losses[i - 5]);
  const auto after = m.evaluate(X, Y, batches(16));
  CHECK(after[0].second < 1e-3);
  CHECK(after[0].second < before[0].second * 1e-3);
  std::vector<float> k(2), b(1);
  m.get_parameter(0, k.data());
  m.get_parameter(1, b.data());
  CHECK(k[0] == Approx(2.0).margin(0.05));
  CHECK(k[1] == Approx(-3.0).margin(0.05));
  CHECK(b[0] == Approx(0.5).margin(0.05));
}

TEST_CASE("Sequential: predict matches call, across batch sizes", "[model]") {
  ff::GlobalSeed::set(11);
  ff::Sequential m(fftest::backend());
  m.add(dense("hidden", 5, "tanh"));
  m.add(std::make_shared<ff::Dropout>("dropout", ff::GlobalSeed::next(), 0.5f));
  m.add(dense("out", 3, "softmax"));
  m.build({ff::kNone, 4});
  const int64_t n = 13;
  const auto x = uniform_values(n * 4, 2, -2.0f, 2.0f);
  std::vector<float> called(n * 3), predicted(n * 3, -1.0f);
  m.call(host(x, {n, 4}), false, called.data());
  m.predict(host(x, {n, 4}), predicted.data(), batches(4));  // 4 + 4 + 4 + 1
  for (int64_t i = 0; i < n * 3; ++i) REQUIRE(predicted[i] == Approx(called[i]).epsilon(1e-6));
  for (int64_t r = 0; r < n; ++r)
    CHECK(called[r * 3] + called[r * 3 + 1] + called[r * 3 + 2] == Approx(1.0f).epsilon(1e-6));
  // Dropout is active only in a training call.
  std::vector<float> trained(n * 3);
  m.call(host(x, {n, 4}), true, trained.data());
  CHECK(trained != called);
  // Wrong input shape: the Keras-style error names the first layer.
  std::vector<float> bad(n * 5);
  CHECK_THROWS_WITH(m.predict(host(bad, {n, 5}), predicted.data(), batches(4)),
                    Catch::Contains("Input 0 of layer \"hidden\"") &&
                        Catch::Contains("expected shape=(None, 4), found shape=(13, 5)"));
}

TEST_CASE("Sequential: the same global seed gives bit-identical models and training",
          "[model][train][determinism]") {
  const int64_t n = 40;
  const auto x = uniform_values(n * 3, 8, -1.0f, 1.0f);
  const auto y = uniform_values(n, 9, -1.0f, 1.0f);
  auto make = [](uint64_t seed) {
    ff::GlobalSeed::set(seed);
    auto m = std::make_unique<ff::Sequential>(fftest::backend());
    m->add(dense("dense", 8, "relu"));
    m->add(std::make_shared<ff::Dropout>("dropout", ff::GlobalSeed::next(), 0.25f));
    m->add(dense("dense_1", 1));
    m->build({ff::kNone, 3});
    m->compile(ff::make_mean_squared_error(), ff::make_adam({0.01f}, {}), {});
    return m;
  };
  auto a = make(7), b = make(7), c = make(8);
  CHECK(bit_identical(all_params(*a), all_params(*b)));
  CHECK_FALSE(bit_identical(all_params(*a), all_params(*c)));
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    const auto order = ff::Sequential::shuffled_order(n, 42, epoch);
    const auto la = a->train_epoch(host(x, {n, 3}), host(y, {n, 1}), order, epoch, batches(8));
    const auto lb = b->train_epoch(host(x, {n, 3}), host(y, {n, 1}), order, epoch, batches(8));
    CHECK(la[0].second == lb[0].second);
  }
  const auto pa = all_params(*a);
  CHECK(bit_identical(pa, all_params(*b)));
  // Training really changed the parameters.
  CHECK_FALSE(bit_identical(pa, all_params(*make(7))));
}

TEST_CASE("Sequential: shuffled_order is a deterministic permutation per epoch", "[model]") {
  const auto a = ff::Sequential::shuffled_order(50, 1, 0);
  CHECK(a == ff::Sequential::shuffled_order(50, 1, 0));
  CHECK(a != ff::Sequential::shuffled_order(50, 1, 1));
  CHECK(a != ff::Sequential::shuffled_order(50, 2, 0));
  CHECK(a != iota(50));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == iota(50));
}

TEST_CASE("Sequential: end-to-end gradient through reshaping layers matches finite differences",
          "[model][gradient]") {
  ff::GlobalSeed::set(5);
  ff::Sequential m(fftest::backend());
  m.add(std::make_shared<ff::Flatten>("flatten", 1));          // no params: no dx needed
  m.add(dense("dense", 4, "tanh"));                             // (N, 6) -> (N, 4)
  m.add(std::make_shared<ff::Reshape>("reshape", 1, ff::Shape{2, 2}));
  m.add(dense("dense_1", 3, "linear"));                         // (N, 2, 2) -> (N, 2, 3)
  m.add(std::make_shared<ff::Flatten>("flatten_1", 1));         // (N, 6)
  m.build({ff::kNone, 2, 3});
  REQUIRE(m.output_shape() == ff::Shape{ff::kNone, 6});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({1.0f}, {}), {});
  const int64_t n = 5;
  const auto x = uniform_values(n * 6, 3, -1.0f, 1.0f);
  const auto y = uniform_values(n * 6, 4, -1.0f, 1.0f);
  const auto X = host(x, {n, 2, 3});
  const auto Y = host(y, {n, 6});
  // One full-batch SGD step with lr 1: the parameter change is minus the gradient.
  const auto p_before = all_params(m);
  m.train_epoch(X, Y, iota(n), 0, batches(n));
  const auto p_after = all_params(m);
  std::vector<float> analytic(p_before.size());
  for (size_t i = 0; i < analytic.size(); ++i) analytic[i] = p_before[i] - p_after[i];
  for (size_t i = 0; i < m.parameters().size(); ++i) {
    std::vector<float> p(static_cast<size_t>(m.parameters()[i].value.numel()));
    size_t off = 0;
    for (size_t j = 0; j < i; ++j) off += m.parameters()[j].value.numel();
    std::copy(p_before.begin() + off, p_before.begin() + off + p.size(), p.begin());
    m.set_parameter(i, p.data());
  }
  REQUIRE(bit_identical(all_params(m), p_before));
  // The buffer is contiguous, so the whole model is one vector for the helper.
  float* flat = m.parameters()[0].value.data<float>();
  auto loss = [&]() { return m.evaluate(X, Y, batches(n))[0].second; };
  require_gradients_match(
      check_gradient("model dL/dparams", flat, m.param_count(), analytic, loss, {1e-2, 1e-2, 1e-4}));
}

TEST_CASE("Sequential: check-numerics names the layer, the pass and the step", "[model][numerics]") {
  ff::GlobalSeed::set(1);
  ff::Sequential m(fftest::backend());
  m.add(dense("d1", 3, "relu"));
  m.add(dense("d2", 2));
  m.build({ff::kNone, 4});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({0.01f}, {}), {});
  std::vector<float> k2(6);
  m.get_parameter(2, k2.data());
  k2[4] = std::nanf("");
  m.set_parameter(2, k2.data());
  const auto x = uniform_values(8 * 4, 1, 0.1f, 1.0f);  // positive: d1's relu output is non-zero
  const auto y = uniform_values(8 * 2, 2, -1.0f, 1.0f);
  {
    CheckNumericsOn on;
    try {
      m.train_epoch(host(x, {8, 4}), host(y, {8, 2}), iota(8), 0, batches(4));
      FAIL("expected ff::NumericsError");
    } catch (const ff::NumericsError& e) {
      const std::string msg = e.what();
      CHECK_THAT(msg, Catch::Contains("layer \"d2\" (Dense)") && Catch::Contains("NaN") &&
                          Catch::Contains("forward") && Catch::Contains("epoch 1, step 1"));
    }
  }
  CHECK_FALSE(ff::CheckNumerics::enabled());
  // Without check-numerics nothing is raised; the NaN reaches the loss.
  const auto logs = m.train_epoch(host(x, {8, 4}), host(y, {8, 2}), iota(8), 1, batches(4));
  CHECK(std::isnan(logs[0].second));
}

TEST_CASE("Sequential: check-numerics names the input batch when the data holds NaN",
          "[model][numerics]") {
  // The first layer's output would be NaN too; the data, not the layer, is the source.
  ff::GlobalSeed::set(4);
  ff::Sequential m(fftest::backend());
  m.add(dense("d1", 3, "relu"));
  m.add(dense("d2", 2));
  m.build({ff::kNone, 4});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({0.01f}, {}), {});
  auto x = uniform_values(8 * 4, 5, -1.0f, 1.0f);
  const auto y = uniform_values(8 * 2, 6, -1.0f, 1.0f);
  x[6 * 4 + 2] = std::numeric_limits<float>::infinity();  // row 6: the second batch's row 2
  const auto before = fftest::all_params(m);
  CheckNumericsOn on;
  CHECK_THROWS_WITH(m.train_epoch(host(x, {8, 4}), host(y, {8, 2}), iota(8), 0, batches(4)),
                    Catch::Contains("the input batch holds Inf before any layer ran") &&
                        Catch::Contains("epoch 1, step 2") && Catch::Contains("row 2") &&
                        Catch::Contains("0 NaN and 1 Inf") &&
                        !Catch::Contains("layer \"d1\""));
  // The first step trained; the failing one changed nothing.
  CHECK_FALSE(bit_identical(fftest::all_params(m), before));
}

TEST_CASE("Sequential: check-numerics reports a non-finite loss with finite outputs",
          "[model][numerics]") {
  ff::GlobalSeed::set(2);
  ff::Sequential m(fftest::backend());
  m.add(dense("first", 3));
  m.add(dense("second", 1));
  m.build({ff::kNone, 2});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({0.01f}, {}), {});
  const std::vector<float> x{1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> y{0.0f, std::numeric_limits<float>::infinity()};
  CheckNumericsOn on;
  // An Inf target makes the loss Inf although the outputs are finite.
  CHECK_THROWS_AS(m.train_epoch(host(x, {2, 2}), host(y, {2, 1}), iota(2), 2, batches(2)),
                  ff::NumericsError);
  CHECK_THROWS_WITH(m.train_epoch(host(x, {2, 2}), host(y, {2, 1}), iota(2), 2, batches(2)),
                    Catch::Contains("loss \"mean_squared_error\"") &&
                        Catch::Contains("epoch 3, step 1"));
}

TEST_CASE("Sequential: an out-of-range label names the value and the sample index",
          "[model][labels]") {
  ff::GlobalSeed::set(4);
  ff::Sequential m(fftest::backend());
  m.add(dense("logits", 3));
  m.build({ff::kNone, 2});
  m.compile(ff::make_sparse_categorical_crossentropy(true), ff::make_sgd({0.1f}, {}),
            {std::shared_ptr<ff::Metric>(ff::make_sparse_categorical_accuracy("accuracy"))});
  const auto x = uniform_values(16, 1, -1.0f, 1.0f);
  std::vector<int64_t> y{0, 1, 2, 0, 1, 7, 2, 0};
  const auto before = all_params(m);
  std::vector<int64_t> order{7, 6, 5, 4, 3, 2, 1, 0};  // sample 5 is row 2 of the first batch
  CHECK_THROWS_AS(m.train_epoch(host(x, {8, 2}), host(y, {8}), order, 0, batches(4)),
                  ff::ValueError);
  CHECK_THROWS_WITH(m.train_epoch(host(x, {8, 2}), host(y, {8}), order, 0, batches(4)),
                    Catch::Contains("label value of 7") && Catch::Contains("sample index 5") &&
                        Catch::Contains("[0, 3)"));
  CHECK(bit_identical(all_params(m), before));  // the bad step updated nothing
  y[5] = -1;
  CHECK_THROWS_WITH(m.evaluate(host(x, {8, 2}), host(y, {8}), batches(3)),
                    Catch::Contains("label value of -1") && Catch::Contains("sample index 5"));
  y[5] = 2;
  CHECK_NOTHROW(m.train_epoch(host(x, {8, 2}), host(y, {8}), order, 0, batches(4)));
  // Labels of the wrong dtype or one-hot shape are refused before training.
  std::vector<float> yf(8, 0.0f);
  CHECK_THROWS_AS(m.train_epoch(host(x, {8, 2}), host(yf, {8}), order, 0, batches(4)),
                  ff::TypeError);
  std::vector<int64_t> onehot(24, 0);
  CHECK_THROWS_WITH(m.train_epoch(host(x, {8, 2}), host(onehot, {8, 3}), order, 0, batches(4)),
                    Catch::Contains("categorical_crossentropy"));
}

TEST_CASE("Sequential: a model without parameters counts zero parameters", "[model]") {
  ff::Sequential m(fftest::backend());
  m.add(std::make_shared<ff::Flatten>("flatten", 1));
  m.add(std::make_shared<ff::Dropout>("dropout", 1, 0.5f));
  m.build({ff::kNone, 2, 3});
  CHECK(m.param_count() == 0);
  CHECK(m.parameters().empty());
  m.add(dense("dense", 2));  // extending it then counts exactly the new parameters
  CHECK(m.param_count() == 6 * 2 + 2);
}

TEST_CASE("Sequential: adding a layer to a built, trained model keeps the trained weights",
          "[model]") {
  ff::GlobalSeed::set(12);
  ff::Sequential m(fftest::backend());
  m.add(dense("dense", 3, "tanh"));
  m.build({ff::kNone, 2});
  m.compile(ff::make_mean_squared_error(), ff::make_sgd({0.1f}, {}), {});
  const auto x = uniform_values(16, 1, -1.0f, 1.0f);
  const auto y = uniform_values(24, 2, -1.0f, 1.0f);
  m.train_epoch(host(x, {8, 2}), host(y, {8, 3}), iota(8), 0, batches(4));
  const auto trained = all_params(m);
  auto head = dense("dense_1", 1);
  m.add(head);
  REQUIRE(m.built());
  CHECK(m.param_count() == static_cast<int64_t>(trained.size()) + 3 + 1);
  const auto now = all_params(m);
  CHECK(bit_identical(std::vector<float>(now.begin(), now.begin() + trained.size()), trained));
  // The new layer is initialised (glorot kernel, zero bias) and the model trains on.
  std::vector<float> k(3);
  m.get_parameter(2, k.data());
  CHECK(std::count(k.begin(), k.end(), 0.0f) == 0);
  CHECK(m.output_shape() == ff::Shape{ff::kNone, 1});
  CHECK_NOTHROW(m.train_epoch(host(x, {8, 2}), host(y, {8}), iota(8), 1, batches(4)));
}

TEST_CASE("Sequential: rank-3 outputs average loss and metrics over every position, as Keras",
          "[model][train]") {
  // (N, T, F) -> Dense over the last axis -> (N, T, K). Keras's sum_over_batch_size divides by
  // all N*T per-position losses; accuracy is the fraction of positions right (never above 1).
  ff::GlobalSeed::set(13);
  const int64_t n = 4, t = 3;
  const auto x = uniform_values(n * t * 2, 1, -1.0f, 1.0f);
  const auto y = uniform_values(n * t * 2, 2, -1.0f, 1.0f);

  ff::Sequential reg(fftest::backend());
  reg.add(dense("identity", 2));
  reg.build({ff::kNone, t, 2});
  REQUIRE(reg.output_shape() == ff::Shape{ff::kNone, t, 2});
  const std::vector<float> eye{1, 0, 0, 1}, zero{0, 0};
  reg.set_parameter(0, eye.data());
  reg.set_parameter(1, zero.data());
  reg.compile(ff::make_mean_squared_error(), ff::make_sgd({0.1f}, {}),
              {std::shared_ptr<ff::Metric>(ff::make_mean_error("mae", 1))});
  double mse = 0, mae = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mse += (static_cast<double>(x[i]) - y[i]) * (x[i] - y[i]);
    mae += std::fabs(static_cast<double>(x[i]) - y[i]);
  }
  mse /= static_cast<double>(x.size());
  mae /= static_cast<double>(x.size());
  const auto logs = reg.evaluate(host(x, {n, t, 2}), host(y, {n, t, 2}), batches(3));
  CHECK(logs[0].second == Approx(mse).epsilon(1e-5));
  CHECK(logs[1].second == Approx(mae).epsilon(1e-5));
  // The training gradient belongs to the same (Keras) loss: one SGD step with lr 1 on the
  // identity model moves the kernel by minus d(mean)/dW.
  reg.compile(ff::make_mean_squared_error(), ff::make_sgd({1.0f}, {}), {});
  reg.train_epoch(host(x, {n, t, 2}), host(y, {n, t, 2}), iota(n), 0, batches(n));
  std::vector<float> w(4);
  reg.get_parameter(0, w.data());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double g = 0;  // d/dW_ij of mean over N*T*2 of (x W - y)^2 at W = I
      for (int64_t r = 0; r < n * t; ++r) g += 2.0 * x[r * 2 + i] * (x[r * 2 + j] - y[r * 2 + j]);
      g /= static_cast<double>(n * t * 2);
      CHECK(w[i * 2 + j] == Approx(eye[i * 2 + j] - g).epsilon(1e-5).margin(1e-6));
    }

  ff::Sequential cls(fftest::backend());
  cls.add(dense("classes", 3, "softmax"));
  cls.build({ff::kNone, t, 2});
  cls.compile(ff::make_categorical_crossentropy(false), ff::make_sgd({0.1f}, {}),
              {std::shared_ptr<ff::Metric>(ff::make_categorical_accuracy("accuracy"))});
  std::vector<float> probs(n * t * 3);
  cls.call(host(x, {n, t, 2}), false, probs.data());
  std::vector<float> onehot(n * t * 3, 0.0f);  // targets = the model's own argmax: all right
  double cce = 0;
  for (int64_t r = 0; r < n * t; ++r) {
    const float* pr = probs.data() + r * 3;
    const int64_t k = std::max_element(pr, pr + 3) - pr;
    onehot[r * 3 + k] = 1.0f;
    cce -= std::log(static_cast<double>(pr[k]));
  }
  const auto clogs = cls.evaluate(host(x, {n, t, 2}), host(onehot, {n, t, 3}), batches(4));
  CHECK(clogs[1].second == Approx(1.0));
  CHECK(clogs[0].second == Approx(cce / static_cast<double>(n * t)).epsilon(1e-5));
}
