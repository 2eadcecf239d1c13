// Small helpers shared by the C++ tests: host <-> tensor copies through the device, step-state
// blocks and contexts for running kernels and layers, deterministic random fills (counter-based,
// so every run sees the same data) and double-precision reference activations.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/threading.h"
#include "backend/registry.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "layers/layer.h"
#include "losses/loss.h"
#include "model/model.h"
#include "metrics/metric.h"
#include "optimizers/optimizer.h"

namespace fftest {

// The backend under test: the default one (FORGEFLOW_DEVICE chooses it), so the same tests can
// run against any backend. Every helper below moves data through its device's copy functions.
// UseBackend (or FORGEFLOW_TEST_DEVICE=emulated-gpu, see emulated_gpu.h) overrides it.
inline ff::Backend*& backend_override() {
  static ff::Backend* override_backend = nullptr;
  return override_backend;
}
inline ff::Backend& backend() {
  return backend_override() ? *backend_override() : ff::default_backend();
}
// Makes fftest::backend() return `b` for a scope.
class UseBackend {
 public:
  explicit UseBackend(ff::Backend& b) : saved_(backend_override()) { backend_override() = &b; }
  ~UseBackend() { backend_override() = saved_; }
  UseBackend(const UseBackend&) = delete;
  UseBackend& operator=(const UseBackend&) = delete;

 private:
  ff::Backend* saved_;
};
inline ff::Device& device() { return backend().device(); }

// Fixes the CPU kernels' thread count for a scope (whatever the machine's load), then restores
// the previous setting: how the tests check that the bits do not depend on the thread count.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(ff::cpu::intra_op_threads_setting()) {
    ff::cpu::set_intra_op_threads(n);
  }
  ~ScopedThreads() { ff::cpu::set_intra_op_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

// fn() run with the CPU kernels' thread count fixed at n.
template <class Fn>
auto with_threads(int n, Fn&& fn) {
  ScopedThreads fixed(n);
  return fn();
}

// Every parameter of a model, in layer order, as one host vector (read through the device).
inline std::vector<float> all_params(const ff::Model& m) {
  std::vector<float> out;
  for (size_t i = 0; i < m.parameters().size(); ++i) {
    std::vector<float> p(static_cast<size_t>(m.parameters()[i].value.numel()));
    m.get_parameter(i, p.data());
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// A float32 tensor holding `values` (row-major).
inline ff::Tensor make_tensor(const ff::Shape& shape, const std::vector<float>& values) {
  ff::Tensor t = ff::Tensor::empty(device(), shape);
  if (static_cast<int64_t>(values.size()) != t.numel()) throw std::logic_error("make_tensor: size");
  device().copy_from_host(t.raw(), values.data(), t.nbytes());
  return t;
}

// An int64 tensor of class labels.
inline ff::Tensor make_labels(const std::vector<int64_t>& labels) {
  ff::Tensor t = ff::Tensor::empty(device(), {static_cast<int64_t>(labels.size())}, ff::DType::Int64);
  device().copy_from_host(t.raw(), labels.data(), t.nbytes());
  return t;
}

inline std::vector<float> to_vector(const ff::Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  t.device().copy_to_host(out.data(), t.raw(), t.nbytes());
  return out;
}

inline void fill(ff::Tensor& t, const std::vector<float>& values) {
  if (static_cast<int64_t>(values.size()) != t.numel()) throw std::logic_error("fill: size");
  t.device().copy_from_host(t.raw(), values.data(), t.nbytes());
}

// A step-state block in backend memory (backend/step_state.h) for kernels and layers run outside
// a model: `num_sums` sums, the random stream `stream`, loss scale 1, nothing halted.
class StateBlock {
 public:
  explicit StateBlock(int32_t num_sums = 0, uint64_t stream = 0)
      : num_sums_(num_sums),
        block_(ff::Tensor::zeros(device(), {static_cast<int64_t>(ff::step_state_bytes(num_sums))},
                                 ff::DType::UInt8)) {
    ff::StepState h{};
    h.num_sums = num_sums;
    h.rng_stream = static_cast<int64_t>(stream);
    h.step = static_cast<int64_t>(stream);
    h.loss_scale = 1.0f;
    h.grads_finite = 1;
    h.apply_update = 1;
    write(h);
  }
  ff::StepState* get() const { return static_cast<ff::StepState*>(block_.raw()); }
  ff::StepState read() const {
    ff::StepState h;
    device().copy_to_host(&h, get(), sizeof h);
    return h;
  }
  void write(const ff::StepState& h) { device().copy_from_host(get(), &h, sizeof h); }
  // The step's partial sum i (backend memory) and its value.
  double* step_sum(int32_t i) const { return ff::step_sums(get(), num_sums_) + i; }
  double read_step_sum(int32_t i) const {
    double v;
    device().copy_to_host(&v, step_sum(i), sizeof v);
    return v;
  }
  void write_step_sum(int32_t i, double v) { device().copy_from_host(step_sum(i), &v, sizeof v); }

 private:
  int32_t num_sums_;
  ff::Tensor block_;
};

// A StepContext for running layers directly: training or not, random stream `step`. Keep the
// TestContext alive while the context is used (it owns the state block).
struct TestContext {
  explicit TestContext(bool training, uint64_t step = 0, int64_t epoch = -1, int64_t batch = -1)
      : block(0, step), ctx{&backend(), training, block.get(), epoch, batch, 0} {}
  StateBlock block;
  ff::StepContext ctx;
};

// A context for a layer call made in one statement: its state block (stream 0, nothing halted)
// is shared and reset by each call, so use it only for layers that record no error.
inline ff::StepContext simple_context(bool training) {
  static StateBlock* block = new StateBlock(0, 0);
  *block = StateBlock(0, 0);
  return ff::StepContext{&backend(), training, block->get(), -1, -1, 0};
}

// Loss::compute over a whole batch: the summed per-sample loss (accumulated onto `start`, so
// a test can see that compute adds rather than overwrites). grad may be null. A recorded bad
// label throws.
inline double loss_sum(ff::Loss& loss, const ff::Tensor& pred, const ff::Tensor& target,
                       ff::Tensor* grad = nullptr, double start = 0.0) {
  StateBlock block(1);
  block.write_step_sum(0, start);
  loss.compute(backend(), pred, target, block.step_sum(0), grad,
               1.0f / static_cast<float>(pred.shape().at(0)), block.get(), 0);
  const ff::StepState h = block.read();
  if (h.halted)
    throw std::logic_error("loss_sum: compute recorded a bad label at row " +
                           std::to_string(h.error_index));
  return block.read_step_sum(0);
}

// Metric::update over a batch: the per-sample values summed onto `start` (a sum in backend
// memory, as the model's step-state block holds it).
inline double metric_sum(ff::Metric& metric, const ff::Tensor& pred, const ff::Tensor& target,
                         double start = 0.0) {
  StateBlock block(1);
  block.write_step_sum(0, start);
  metric.update(backend(), pred, target, block.step_sum(0));
  return block.read_step_sum(0);
}

// Builds `opt` for p0.size() parameters and runs one Optimizer::apply per entry of `grads`
// (one segment covering the whole buffer unless `segments` is given); returns the parameters.
inline std::vector<float> run_optimizer(ff::Optimizer& opt, const std::vector<float>& p0,
                                        const std::vector<std::vector<float>>& grads,
                                        std::vector<ff::Segment> segments = {}) {
  const int64_t n = static_cast<int64_t>(p0.size());
  if (segments.empty()) segments = {{0, n}};
  ff::Tensor params = make_tensor({n}, p0);
  ff::Tensor g = ff::Tensor::zeros(device(), {n});
  opt.build(backend(), n);
  for (const auto& step : grads) {
    fill(g, step);
    opt.apply(backend(), params, g, segments);
  }
  return to_vector(params);
}

// n values uniform in [lo, hi) from Philox stream (seed, 7).
inline std::vector<float> uniform_values(int64_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * ff::Philox::uniform(seed, 7, i);
  return v;
}

// n values with magnitude uniform in [lo, hi) and a random sign: keeps inputs away from 0,
// where relu-like activations have their kink.
inline std::vector<float> signed_values(int64_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    float mag = lo + (hi - lo) * ff::Philox::uniform(seed, 11, i);
    v[i] = ff::Philox::uniform(seed, 13, i) < 0.5f ? -mag : mag;
  }
  return v;
}

// Reference activations in double, Keras 3 definitions (leaky_relu slope 0.2, elu alpha 1,
// exact erf gelu, swish = x sigmoid(x)). Softmax is handled row-wise by softmax_ref.
inline double act_ref(const std::string& name, double x) {
  if (name == "linear") return x;
  if (name == "relu") return x > 0 ? x : 0.0;
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (name == "tanh") return std::tanh(x);
  if (name == "leaky_relu") return x > 0 ? x : 0.2 * x;
  if (name == "elu") return x > 0 ? x : std::expm1(x);
  if (name == "gelu") return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  if (name == "swish" || name == "silu") return x / (1.0 + std::exp(-x));
  throw std::logic_error("act_ref: " + name);
}

// Applies `name` to rows x cols values (softmax along each row) in double.
inline std::vector<double> activation_ref(const std::string& name, const std::vector<double>& z,
                                          int64_t rows, int64_t cols) {
  std::vector<double> y(z.size());
  if (name == "softmax") {
    for (int64_t r = 0; r < rows; ++r) {
      double mx = z[r * cols];
      for (int64_t c = 1; c < cols; ++c) mx = std::max(mx, z[r * cols + c]);
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += std::exp(z[r * cols + c] - mx);
      for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = std::exp(z[r * cols + c] - mx) / s;
    }
    return y;
  }
  for (size_t i = 0; i < z.size(); ++i) y[i] = act_ref(name, z[i]);
  return y;
}

}  // namespace fftest
