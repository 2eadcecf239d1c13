// The losses' and metrics' per-element rules as FF_HD functions that the CPU backend's loops and
// the CUDA kernels (cuda/cuda_losses.cu, cuda/cuda_metrics.cu) both run, so the two compute from
// one source. Each returns the term a loop adds to its double sum (or the gradient element);
// the sums' order is the kernel's business (sequential on the CPU, fixed-order trees on CUDA).
// NaN propagates: a NaN prediction gives a NaN loss and a NaN gradient, never a clipped value.
// No std::max/min here (they are not device functions): plain comparisons with the operand
// order of std::max(a, b) = (a < b ? b : a) and std::min(a, b) = (b < a ? b : a).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ff {

constexpr float kLossEpsilon = 1e-7f;  // Keras's backend.epsilon(), used by probability clipping

// ---- mean squared / absolute error, Huber: d = pred - target, g = the gradient's factor ----
FF_HD inline double mse_term(float d) { return static_cast<double>(d) * d; }

FF_HD inline float mae_grad(float d, float g) {
  return d > 0.0f ? g : (d < 0.0f ? -g : (std::isnan(d) ? d : 0.0f));
}

FF_HD inline double huber_term(float d, float delta) {
  const float a = std::fabs(d);
  const float quad = delta < a ? delta : a;  // std::min(a, delta)
  const float lin = a - quad;
  return 0.5 * static_cast<double>(quad) * quad + static_cast<double>(delta) * lin;
}
FF_HD inline float huber_grad(float d, float delta, float g) {
  const float a = std::fabs(d);
  return g * (a <= delta ? d : (d > 0.0f ? delta : -delta));
}

// ---- probabilities ----
// q clipped to [eps, 1 - eps]; NaN stays NaN.
FF_HD inline float clip_probability(float q) {
  float p = q < kLossEpsilon ? kLossEpsilon : q;      // std::max(q, eps)
  p = (1.0f - kLossEpsilon) < p ? 1.0f - kLossEpsilon : p;  // std::min(p, 1 - eps)
  return std::isnan(q) ? q : p;
}
// Whether clipping changed q (its gradient is then 0).
FF_HD inline bool probability_clipped(float q) {
  return q < kLossEpsilon || q > 1.0f - kLossEpsilon;
}
// dL/dq of L = -t log(clip(q)), p = clip_probability(q): 0 where clipped, NaN for NaN q.
FF_HD inline float crossentropy_dq(float q, float p, float t) {
  const float d = probability_clipped(q) ? 0.0f : -t / p;
  return std::isnan(q) ? q : d;
}

// ---- binary crossentropy of one element (x the prediction, t the target) ----
// The loss term: from logits max(x,0) - x t + log(1 + e^-|x|); from probabilities
// -(t log o + (1 - t) log(1 - o)) with o = clip(x).
FF_HD inline float bce_term(float x, float t, bool from_logits) {
  if (from_logits) {
    const float pos = x < 0.0f ? 0.0f : x;
    return (pos + std::log1p(std::exp(-std::fabs(x)))) - x * t;
  }
  const float o = clip_probability(x);
  return -(t * std::log(o) + (1.0f - t) * std::log(1.0f - o));
}
// Its gradient times g: from logits g (sigmoid(x) - t); from probabilities 0 where x was clipped,
// NaN for NaN x.
FF_HD inline float bce_grad(float x, float t, bool from_logits, float g) {
  if (from_logits) {
    float s;
    if (x >= 0) {
      s = 1.0f / (1.0f + std::exp(-x));
    } else {
      const float e = std::exp(x);
      s = e / (1.0f + e);
    }
    return g * (s - t);
  }
  const float o = clip_probability(x);
  const float d = probability_clipped(x) ? 0.0f : g * (-t / o + (1.0f - t) / (1.0f - o));
  return std::isnan(x) ? x : d;
}

// ---- metrics ----
// Binary accuracy: whether the thresholded prediction equals the target.
FF_HD inline bool binary_hit(float pred, float target, float threshold) {
  return (pred > threshold ? 1.0f : 0.0f) == target;
}
// Mean error term: |pred - target|^power in double (power 1 or 2).
FF_HD inline double mean_error_term(float pred, float target, int power) {
  const double d = static_cast<double>(pred) - target;
  return power == 2 ? d * d : std::fabs(d);
}
// Argmax's order: whether candidate (value a at index ia) beats (b at ib). NaN beats every
// number (as numpy.argmax: a NaN prediction is never silently scored as some ordinary class),
// then the larger value, then on a tie (or two NaNs) the lower index. A total order, so the CPU's
// left-to-right scan and a GPU's tree of pairwise picks find the same index.
FF_HD inline bool argmax_beats(float a, int64_t ia, float b, int64_t ib) {
  const bool a_nan = std::isnan(a), b_nan = std::isnan(b);
  if (a_nan != b_nan) return a_nan;
  if (!a_nan && a != b) return a > b;
  return ia < ib;
}

}  // namespace ff
