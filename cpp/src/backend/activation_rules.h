// The activations' per-element rules, forward and backward, as FF_HD functions that the CPU
// backend's loops and the CUDA kernels (cuda/cuda_elementwise.cu) both run, so the two compute
// from one source. NaN in gives NaN out everywhere (ReLU of NaN is NaN: `x < 0` is false for
// NaN). Softmax is a row rule and lives in the kernels; these cover every other activation.
// No std::max/min here (they are not device functions): plain comparisons with the same
// operand order as std::max(a, b) = (a < b ? b : a).
#pragma once
#include <cmath>

#include "backend/backend.h"
#include "core/host_device.h"

namespace ff {

FF_HD inline float sigmoid_rule(float x) {
  // Stable for large |x|; NaN stays NaN.
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.0f + e);
}

// softplus(x) = log(1 + e^x), stable: max(x, 0) + log1p(e^-|x|) (NaN stays NaN).
FF_HD inline float softplus_rule(float x) {
  const float pos = x < 0.0f ? 0.0f : x;
  return pos + std::log1p(std::exp(-std::fabs(x)));
}

FF_HD inline float gelu_rule(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
}
FF_HD inline float gelu_grad_rule(float x) {
  float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
  float pdf = 0.3989422804014327f * std::exp(-0.5f * x * x);
  return cdf + x * pdf;
}

// y = act(x) for every activation but softmax (which returns x unchanged here).
FF_HD inline float activate_rule(Activation act, float alpha, float x) {
  switch (act) {
    case Activation::Linear: return x;
    case Activation::Relu: return x < 0.0f ? 0.0f : x;  // NaN < 0 is false: NaN propagates
    case Activation::Sigmoid: return sigmoid_rule(x);
    case Activation::Tanh: return std::tanh(x);
    case Activation::LeakyRelu: return x < 0.0f ? alpha * x : x;
    case Activation::Elu: return x < 0.0f ? alpha * std::expm1(x) : x;
    case Activation::Gelu: return gelu_rule(x);
    case Activation::Swish: return x * sigmoid_rule(x);
    case Activation::Softmax: break;
  }
  return x;
}

// dx = dy * act'(x) from y = act(x) where that suffices, from x for gelu and swish; every
// activation but softmax (dy returned unchanged). The CPU's vectorised loops (relu, sigmoid,
// tanh) compute exactly these expressions, in this operand order.
FF_HD inline float activation_grad_rule(Activation act, float alpha, float x, float y, float dy) {
  switch (act) {
    case Activation::Linear: return dy;
    case Activation::Relu: return y > 0.0f ? dy : 0.0f;
    case Activation::Sigmoid: return dy * y * (1.0f - y);
    case Activation::Tanh: return dy * (1.0f - y * y);
    case Activation::LeakyRelu: return y > 0.0f ? dy : alpha * dy;
    case Activation::Elu: return y > 0.0f ? dy : dy * (y + alpha);
    case Activation::Gelu: return dy * gelu_grad_rule(x);
    case Activation::Swish: {
      float s = sigmoid_rule(x);
      return dy * (s + x * s * (1.0f - s));
    }
    case Activation::Softmax: break;
  }
  return dy;
}

}  // namespace ff
