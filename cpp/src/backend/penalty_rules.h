// The per-element rules of the penalty kernel (Backend::penalty): the loss terms a model adds to
// its compiled losses (Model::add_loss_term: add_loss values, activity regularizers) and the
// weight regularizers (ParamSpec::l1/l2). One term p(v) = linear * v + l1 * |v| + l2 * v^2 per
// element, and its derivative p'(v) = linear + l1 * sign(v) + 2 * l2 * v (sign(0) = 0, as
// TensorFlow's gradient of abs). A coefficient of 0 contributes nothing, not 0 * v (so an Inf
// value under a zero coefficient does not become NaN); NaN propagates through every term that
// is there. Shared by the CPU loops and the CUDA kernels.
#pragma once
#include "core/host_device.h"

namespace ff {

struct PenaltySpec {
  float linear = 0.0f;  // add_loss: the values themselves (summed)
  float l1 = 0.0f;      // L1: l1 * sum |v|
  float l2 = 0.0f;      // L2: l2 * sum v^2
};

// p(x) in double (the sum is accumulated in double).
FF_HD inline double penalty_value(float x, const PenaltySpec& p) {
  const double v = x;
  double out = 0.0;
  if (p.linear != 0.0f) out += static_cast<double>(p.linear) * v;
  if (p.l1 != 0.0f) out += static_cast<double>(p.l1) * (v < 0.0 ? -v : v);
  if (p.l2 != 0.0f) out += static_cast<double>(p.l2) * v * v;
  return out;
}

// p'(x) in float32 (sign(NaN) is NaN).
FF_HD inline float penalty_grad(float x, const PenaltySpec& p) {
  float g = 0.0f;
  if (p.linear != 0.0f) g += p.linear;
  if (p.l1 != 0.0f) {
    const float s = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : (x == 0.0f ? 0.0f : x));
    g += p.l1 * s;
  }
  if (p.l2 != 0.0f) g += 2.0f * p.l2 * x;
  return g;
}

}  // namespace ff
