// The one shared finite-difference gradient check (DESIGN.md, tier 1). Every layer and loss test
// goes through it: central differences of the float32 computation, accumulated in double, against
// the analytic gradient, with a relative + absolute tolerance suited to float32.
//   check_gradient        the core: any float buffer and any scalar function of it
//   check_layer_gradients a layer: dL/dx and dL/dparams for L = sum(y * R), R fixed and random
//   check_loss_gradient   a loss: dL/dpred from Loss::compute against its own loss value
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "layers/layer.h"
#include "losses/loss.h"

namespace fftest {

struct GradCheckOptions {
  double step = 1e-2;  // finite-difference step h (the float32 sweet spot is 1e-2 .. 1e-3)
  double rtol = 1e-2;  // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
  double atol = 1e-3;
};

struct GradCheckResult {
  std::string what;
  int64_t checked = 0;
  int64_t failures = 0;
  double max_abs_error = 0.0;
  double max_abs_numeric = 0.0;
  std::string details;  // the first mismatches, for the test log
  bool ok() const { return checked > 0 && failures == 0; }
  // False when the numeric gradient is ~0 everywhere: agreeing with zero proves nothing.
  bool nontrivial() const { return max_abs_numeric > 1e-4; }
};

// Compares analytic[i] with (f(x_i + h) - f(x_i - h)) / (2h) for each of the n floats at x
// (backend memory of fftest::device() that f reads). x is restored afterwards.
GradCheckResult check_gradient(const std::string& what, float* x, int64_t n,
                               const std::vector<float>& analytic,
                               const std::function<double()>& f, const GradCheckOptions& opts);

struct LayerCheckSpec {
  ff::Shape input_shape;     // with the batch dimension, e.g. {3, 4}
  bool training = false;     // StepContext.training
  uint64_t step = 0;         // StepContext.step (the dropout stream)
  uint64_t seed = 1;         // data seed: inputs, parameters and R
  float input_min = 0.1f;    // inputs: magnitude in [input_min, input_max), random sign
  float input_max = 1.0f;
  float param_scale = 0.5f;  // parameters uniform in [-param_scale, param_scale)
  // Optional: accept the drawn inputs and parameters (e.g. relu pre-activations at least a
  // step away from 0); otherwise the next data seed is tried, up to 64 times.
  std::function<bool(const ff::Tensor& x, const std::vector<ff::Tensor>& params, double h)> accept;
  GradCheckOptions options;
};

struct LayerCheckResult {
  ff::Shape output_shape;                // for the batch of the spec
  std::vector<float> x, y;               // the input and output the gradients were taken at
  std::vector<std::vector<float>> params;
  GradCheckResult dx;
  std::vector<GradCheckResult> dparams;  // in param_specs() order
};

// Builds `layer` for spec.input_shape (if not built), allocates its parameters and gradients
// with Tensor::zeros on cpu_backend(), bind()s them, fills them with random values and checks
// backward() against finite differences of forward(). A layer whose output aliases its input
// is run as Sequential runs it (y is x reshaped, dx is dy reshaped).
LayerCheckResult check_layer_gradients(ff::Layer& layer, const LayerCheckSpec& spec);

// A layer of several inputs (merge and op layers): every input's gradient from
// backward_multi against finite differences of forward_multi, L = sum(y * R).
struct MultiCheckSpec {
  std::vector<ff::Shape> input_shapes;  // concrete, batch first, e.g. {{3, 4}, {3, 4}}
  // Inputs given explicitly (row-major); an empty entry (or a missing one) is drawn as
  // LayerCheckSpec draws: magnitude in [input_min, input_max), random sign.
  std::vector<std::vector<float>> inputs;
  std::vector<bool> skip;  // inputs whose gradient is not checked (e.g. a where condition)
  // An op layer built in eager mode (OpLayer::build_eager: the shapes as given, dimension 0
  // not the batch), for operands that broadcast along it; otherwise built as a model builds it.
  bool eager = false;
  uint64_t seed = 1;
  float input_min = 0.1f;
  float input_max = 1.0f;
  GradCheckOptions options;
};

struct MultiCheckResult {
  ff::Shape output_shape;
  std::vector<float> y;
  std::vector<GradCheckResult> dxs;  // one per checked input
};

// Builds `layer` for the input shapes with the batch dimension None (build for one input,
// build_multi for several), allocates its scratch for the batch and checks backward_multi's
// input gradients against finite differences of forward_multi.
MultiCheckResult check_multi_input_gradients(ff::Layer& layer, const MultiCheckSpec& spec);

// Checks the gradient Loss::compute writes (grad_scale 1/N, as the trainer uses) against finite
// differences of its loss value divided by N (the batch mean). Also requires compute to return -1.
GradCheckResult check_loss_gradient(ff::Loss& loss, ff::Tensor pred, const ff::Tensor& target,
                                    const GradCheckOptions& opts = {1e-3, 1e-2, 1e-4});

// Catch2 assertions for one result: passes, and the gradient is not trivially zero.
inline void require_gradients_match(const GradCheckResult& r, bool expect_nontrivial = true) {
  INFO(r.what << ": " << r.checked << " elements checked, " << r.failures
              << " mismatches, max |error| " << r.max_abs_error << ", max |numeric| "
              << r.max_abs_numeric << "\n" << r.details);
  CHECK(r.ok());
  if (expect_nontrivial) CHECK(r.nontrivial());
}

inline void require_gradients_match(const LayerCheckResult& r, bool expect_nontrivial = true) {
  require_gradients_match(r.dx, expect_nontrivial);
  for (const auto& p : r.dparams) require_gradients_match(p, expect_nontrivial);
}

inline void require_gradients_match(const MultiCheckResult& r, bool expect_nontrivial = true) {
  for (const auto& d : r.dxs) require_gradients_match(d, expect_nontrivial);
}

}  // namespace fftest
