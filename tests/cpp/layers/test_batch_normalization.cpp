// Tests for layers/batch_normalization.cpp and its CPU kernels: weights in Keras's order (gamma,
// beta trainable; moving_mean, moving_variance not), training forward against a double reference
// (batch mean and biased variance over all axes but the last), the moving-statistics update
// moving * momentum + batch * (1 - momentum), inference with the moving statistics (which then
// stay unchanged), finite-difference gradients through the batch statistics (shared helper) in
// training and through the moving ones at inference, center/scale off, axis and shape errors, and
// results that do not depend on the thread count.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"
#include "layers/batch_normalization.h"
#include "test_util.h"

using namespace fftest;

namespace {

ff::BatchNormalization make_bn(const std::string& name = "batch_normalization", bool center = true,
                               bool scale = true, float momentum = 0.99f, float epsilon = 1e-3f,
                               int64_t axis = -1) {
  return ff::BatchNormalization(name, 1, axis, momentum, epsilon, center, scale, "zeros", "ones",
                                "zeros", "ones");
}

struct Bound {
  std::vector<ff::Tensor> params, grads, scratch;
};

// Allocates and binds the layer's weights (values given in param_specs() order) and scratch.
Bound bind(ff::BatchNormalization& layer, const ff::Shape& in,
           const std::vector<std::vector<float>>& values) {
  layer.build(in);
  Bound b;
  const auto specs = layer.param_specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    b.params.push_back(make_tensor(specs[i].shape, values.at(i)));
    b.grads.push_back(specs[i].trainable ? ff::Tensor::zeros(fftest::device(), specs[i].shape) : ff::Tensor());
  }
  layer.bind(b.params, b.grads);
  for (const auto& s : layer.scratch_shapes(in[0])) b.scratch.push_back(ff::Tensor::zeros(fftest::device(), s));
  return b;
}

struct Stats {
  std::vector<double> mean, var;
};

// Per-channel mean and biased variance over rows of a rows x channels matrix, in double.
Stats batch_stats(const std::vector<float>& x, int64_t channels) {
  const int64_t rows = static_cast<int64_t>(x.size()) / channels;
  Stats s{std::vector<double>(channels, 0.0), std::vector<double>(channels, 0.0)};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) s.mean[c] += x[r * channels + c];
  for (auto& m : s.mean) m /= rows;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      const double d = x[r * channels + c] - s.mean[c];
      s.var[c] += d * d;
    }
  for (auto& v : s.var) v /= rows;
  return s;
}

}  // namespace

TEST_CASE("BatchNormalization: weights in Keras's order, moving statistics non-trainable",
          "[layers][batch_normalization]") {
  auto bn = make_bn();
  CHECK(bn.build({ff::kNone, 5, 5, 3}) == ff::Shape{ff::kNone, 5, 5, 3});
  const auto specs = bn.param_specs();
  REQUIRE(specs.size() == 4);
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  const char* inits[] = {"ones", "zeros", "zeros", "ones"};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(specs[i].name == names[i]);
    CHECK(specs[i].initializer == inits[i]);
    CHECK(specs[i].shape == ff::Shape{3});
    CHECK(specs[i].trainable == (i < 2));
  }
  auto no_scale = make_bn("bn_no_scale", true, false);
  no_scale.build({ff::kNone, 4});
  auto s2 = no_scale.param_specs();
  REQUIRE(s2.size() == 3);
  CHECK(s2[0].name == "beta");
  auto bare = make_bn("bn_bare", false, false);
  bare.build({ff::kNone, 4});
  REQUIRE(bare.param_specs().size() == 2);
  CHECK(bare.param_specs()[0].name == "moving_mean");
}

TEST_CASE("BatchNormalization: training forward uses batch statistics and updates the moving ones",
          "[layers][batch_normalization]") {
  const int64_t C = 3;
  const ff::Shape in{4, 2, C};  // rank 3: statistics over the 8 rows of (batch, position)
  auto bn = make_bn("batch_normalization", true, true, 0.9f, 1e-3f);
  const auto xv = signed_values(24, 5, 0.2f, 2.0f);
  const std::vector<float> gamma{1.5f, -0.5f, 2.0f}, beta{0.1f, 0.2f, -0.3f};
  const std::vector<float> mm0{0.5f, -1.0f, 2.0f}, mv0{1.0f, 3.0f, 0.25f};
  Bound b = bind(bn, in, {gamma, beta, mm0, mv0});
  ff::Tensor x = make_tensor(in, xv), y = ff::Tensor::zeros(fftest::device(), in);
  fftest::TestContext test_context(true, 0, 0, 0);
  const ff::StepContext& ctx = test_context.ctx;
  bn.forward(x, y, b.scratch, ctx);

  const Stats s = batch_stats(xv, C);
  const auto yv = to_vector(y);
  for (int64_t i = 0; i < 24; ++i) {
    const int64_t c = i % C;
    const double want = (xv[i] - s.mean[c]) / std::sqrt(s.var[c] + 1e-3) * gamma[c] + beta[c];
    REQUIRE(yv[i] == Approx(want).margin(1e-5));
  }
  // moving = moving * momentum + batch * (1 - momentum), with the biased batch variance.
  const auto mm = to_vector(b.params[2]), mv = to_vector(b.params[3]);
  for (int64_t c = 0; c < C; ++c) {
    CHECK(mm[c] == Approx(mm0[c] * 0.9 + s.mean[c] * 0.1).margin(1e-6));
    CHECK(mv[c] == Approx(mv0[c] * 0.9 + s.var[c] * 0.1).margin(1e-6));
  }
  // The trainable weights are untouched by forward.
  CHECK(to_vector(b.params[0]) == gamma);
  CHECK(to_vector(b.params[1]) == beta);

  // A second training forward moves the statistics again, from the updated values.
  bn.forward(x, y, b.scratch, ctx);
  const auto mm2 = to_vector(b.params[2]);
  for (int64_t c = 0; c < C; ++c)
    CHECK(mm2[c] == Approx(mm[c] * 0.9 + s.mean[c] * 0.1).margin(1e-6));
}

TEST_CASE("BatchNormalization: inference uses the moving statistics and leaves them unchanged",
          "[layers][batch_normalization]") {
  const int64_t C = 2;
  const ff::Shape in{3, C};
  auto bn = make_bn("batch_normalization", true, true, 0.99f, 1e-3f);
  const std::vector<float> gamma{2.0f, 0.5f}, beta{-1.0f, 1.0f};
  const std::vector<float> mm{0.25f, -2.0f}, mv{4.0f, 0.5f};
  Bound b = bind(bn, in, {gamma, beta, mm, mv});
  const std::vector<float> xv{1.0f, -1.0f, 2.0f, 0.0f, -3.0f, 5.0f};
  ff::Tensor x = make_tensor(in, xv), y = ff::Tensor::zeros(fftest::device(), in);
  bn.forward(x, y, b.scratch, fftest::simple_context(false));
  const auto yv = to_vector(y);
  for (int64_t i = 0; i < 6; ++i) {
    const int64_t c = i % C;
    const double want = (xv[i] - mm[c]) / std::sqrt(mv[c] + 1e-3) * gamma[c] + beta[c];
    REQUIRE(yv[i] == Approx(want).margin(1e-5));
  }
  CHECK(to_vector(b.params[2]) == mm);
  CHECK(to_vector(b.params[3]) == mv);
}

TEST_CASE("BatchNormalization: gradient check in training, through the batch statistics",
          "[layers][batch_normalization][gradient]") {
  struct Case {
    ff::Shape shape;
    bool center, scale;
  };
  const Case cases[] = {{{6, 3}, true, true}, {{2, 3, 3, 2}, true, true}, {{5, 4}, false, true},
                        {{5, 4}, true, false}, {{4, 3}, false, false}};
  int index = 0;
  for (const auto& cs : cases) {
    auto bn = make_bn("bn_" + std::to_string(index++), cs.center, cs.scale);
    LayerCheckSpec spec;
    spec.input_shape = cs.shape;
    spec.training = true;
    spec.input_min = 0.2f;
    spec.input_max = 2.0f;
    const auto r = check_layer_gradients(bn, spec);
    CAPTURE(ff::shape_str(cs.shape), cs.center, cs.scale);
    require_gradients_match(r.dx);
    // Trainable weights only: the moving statistics have no gradient.
    const size_t trainable = (cs.scale ? 1 : 0) + (cs.center ? 1 : 0);
    for (size_t i = 0; i < trainable; ++i) require_gradients_match(r.dparams[i]);
    // The batch statistics really were used: every channel of y has mean beta.
    const int64_t C = cs.shape.back();
    const int64_t rows = static_cast<int64_t>(r.y.size()) / C;
    for (int64_t c = 0; c < C; ++c) {
      double m = 0.0;
      for (int64_t row = 0; row < rows; ++row) m += r.y[row * C + c];
      const double beta = cs.center ? r.params[cs.scale ? 1 : 0][c] : 0.0;
      CHECK(m / rows == Approx(beta).margin(1e-5));
    }
  }
}

TEST_CASE("BatchNormalization: gradient check at inference, through the moving statistics",
          "[layers][batch_normalization][gradient]") {
  auto bn = make_bn();
  LayerCheckSpec spec;
  spec.input_shape = {4, 3};
  spec.training = false;
  // The drawn moving variance must be positive (params: gamma, beta, moving_mean, moving_var).
  spec.accept = [](const ff::Tensor&, const std::vector<ff::Tensor>& p, double) {
    for (float v : to_vector(p[3]))
      if (v < 0.05f) return false;
    return true;
  };
  const auto r = check_layer_gradients(bn, spec);
  require_gradients_match(r.dx);
  require_gradients_match(r.dparams[0]);
  require_gradients_match(r.dparams[1]);
}

TEST_CASE("BatchNormalization: axis and shape errors", "[layers][batch_normalization]") {
  CHECK_THROWS_AS(make_bn("bn", true, true, 0.99f, 1e-3f, 0), ff::ValueError);
  CHECK_THROWS_WITH(make_bn("bn", true, true, 0.99f, 1e-3f, -2), Catch::Contains("axis=-2"));
  auto bn1 = make_bn("bn_axis1", true, true, 0.99f, 1e-3f, 1);
  CHECK_THROWS_WITH(bn1.build({ff::kNone, 4, 4, 3}),
                    Catch::Contains("axis=1") && Catch::Contains("Use axis=-1"));
  auto bn3 = make_bn("bn_axis3", true, true, 0.99f, 1e-3f, 3);  // the last axis of a rank-4 input
  CHECK(bn3.build({ff::kNone, 4, 4, 3}) == ff::Shape{ff::kNone, 4, 4, 3});
  auto rank1 = make_bn("bn_rank1");
  CHECK_THROWS_WITH(rank1.build({ff::kNone}), Catch::Contains("min_ndim=2"));
  CHECK_THROWS_AS(ff::BatchNormalization("bn", 1, -1, 0.99f, 1e-3f, true, true, "zeros",
                                         "no_such_init", "zeros", "ones"),
                  ff::ValueError);
}

TEST_CASE("BatchNormalization kernels: the same bits for any thread count",
          "[layers][batch_normalization][backend]") {
  // A property of the CPU kernels themselves (threads, chunks, dispatch): on the CPU backend
  // whatever backend the suite runs on (FORGEFLOW_DEVICE, FORGEFLOW_TEST_DEVICE).
  fftest::UseBackend cpu_kernels(ff::backend_for(ff::DeviceType::CPU));
  ff::Backend& be = fftest::backend();
  const int64_t rows = 5000, C = 13;  // 65,000 values: above the parallel threshold
  const auto x = signed_values(rows * C, 21, 0.1f, 3.0f);
  const auto dy = uniform_values(rows * C, 22, -1.0f, 1.0f);
  const auto gamma = uniform_values(C, 23, 0.5f, 1.5f), beta = uniform_values(C, 24, -1.0f, 1.0f);
  struct Out {
    std::vector<float> y, saved, mm, mv, dx, dg, db;
  };
  auto run = [&](int threads) {
    fftest::ScopedThreads fixed(threads);
    Out o{std::vector<float>(x.size()), std::vector<float>(2 * C), std::vector<float>(C, 0.0f),
          std::vector<float>(C, 1.0f), std::vector<float>(x.size()), std::vector<float>(C),
          std::vector<float>(C)};
    be.batch_norm_forward_training(x.data(), o.y.data(), rows, C, gamma.data(), beta.data(),
                                   1e-3f, 0.99f, o.mm.data(), o.mv.data(), o.saved.data(),
                                   o.saved.data() + C, nullptr);
    be.batch_norm_backward(x.data(), dy.data(), rows, C, gamma.data(), o.saved.data(),
                           o.saved.data() + C, true, o.dx.data(), o.dg.data(), o.db.data());
    return o;
  };
  const Out one = run(1), two = run(2), three = run(3);
  for (const Out* o : {&two, &three}) {
    CHECK(o->y == one.y);
    CHECK(o->saved == one.saved);
    CHECK(o->mm == one.mm);
    CHECK(o->mv == one.mv);
    CHECK(o->dx == one.dx);
    CHECK(o->dg == one.dg);
    CHECK(o->db == one.db);
  }
  // And the statistics are right (double reference).
  const Stats s = batch_stats(x, C);
  for (int64_t c = 0; c < C; ++c) {
    CHECK(one.saved[c] == Approx(s.mean[c]).margin(1e-6));
    CHECK(one.saved[C + c] == Approx(1.0 / std::sqrt(s.var[c] + 1e-3)).epsilon(1e-6));
  }
}
