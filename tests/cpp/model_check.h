// A model-level gradient check shared by the tests of the graph's values and added losses:
// compile (mean squared error per output, or no compiled loss), run one SGD step on the whole
// batch, and compare the step each parameter took (-lr * its gradient) with central finite
// differences of the loss evaluate() reports (which includes the added losses).
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "model/model.h"
#include "test_util.h"

namespace fftest {

inline std::vector<float> philox_values(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * (2.0f * ff::Philox::uniform(seed, 0, i) - 1.0f);
  return v;
}

inline ff::HostArray host_array(const std::vector<float>& v, ff::Shape shape) {
  return ff::HostArray{v.data(), std::move(shape), ff::DType::Float32};
}

inline void set_all_params(ff::Model& m, const std::vector<float>& flat) {
  size_t offset = 0;
  for (size_t i = 0; i < m.parameters().size(); ++i) {
    m.set_parameter(i, flat.data() + offset);
    offset += static_cast<size_t>(m.parameters()[i].value.numel());
  }
}

// Compiles `m` with SGD (and mean squared error on every output unless `with_loss` is false,
// weighted by `loss_weights` where given).
inline void compile_sgd(ff::Model& m, float lr, bool with_loss = true,
                        const std::vector<float>& loss_weights = {}) {
  std::vector<ff::OutputSpec> specs;
  for (int o = 0; o < m.num_outputs(); ++o) {
    ff::OutputSpec s;
    s.name = "out" + std::to_string(o);
    if (with_loss) s.loss = ff::make_mean_squared_error();
    if (static_cast<size_t>(o) < loss_weights.size()) s.loss_weight = loss_weights[o];
    specs.push_back(s);
  }
  ff::OptimizerOptions opt;
  opt.learning_rate = lr;
  m.compile(specs, ff::make_sgd(opt, {}));
}

// The check (see the file comment) over every parameter (so every weight of `m` must be
// trainable); returns the parameters after the step.
inline std::vector<float> check_step_gradient(ff::Model& m, const std::vector<ff::HostArray>& xs,
                                              const std::vector<ff::HostArray>& ys,
                                              bool with_loss = true,
                                              const std::vector<float>& loss_weights = {}) {
  const float lr = 1e-3f;
  compile_sgd(m, lr, with_loss, loss_weights);
  ff::LoopOptions loop;
  loop.batch_size = xs[0].rows();
  auto loss_at = [&](const std::vector<float>& p) {
    set_all_params(m, p);
    return m.evaluate(xs, ys, loop)[0].second;
  };
  const std::vector<float> p0 = all_params(m);
  const double base = loss_at(p0);
  std::vector<int64_t> order(static_cast<size_t>(xs[0].rows()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  set_all_params(m, p0);
  auto logs = m.train_epoch(xs, ys, order, 0, loop);
  CHECK(logs[0].second == Approx(base).epsilon(1e-6));  // the step's loss is the loss at p0
  const std::vector<float> p1 = all_params(m);
  int nonzero = 0;
  for (size_t i = 0; i < p0.size(); ++i) {
    const double analytic = (static_cast<double>(p0[i]) - p1[i]) / lr;
    std::vector<float> p = p0;
    const float h = 1e-2f;
    p[i] = p0[i] + h;
    const double up = loss_at(p);
    p[i] = p0[i] - h;
    const double down = loss_at(p);
    const double numeric = (up - down) / (2.0 * h);
    INFO("parameter element " << i << " of " << p0.size());
    CHECK(analytic == Approx(numeric).margin(2e-3).epsilon(3e-2));
    nonzero += std::fabs(numeric) > 1e-4;
  }
  CHECK(nonzero > static_cast<int>(p0.size()) / 2);  // the check is not vacuous
  set_all_params(m, p1);
  return p1;
}

}  // namespace fftest
