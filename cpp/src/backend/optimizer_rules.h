// The per-element rules of the optimizer step, shared by the CPU backend's loops and the CUDA
// kernels (FF_HD), so both compute every element with the same operations in the same order:
// the updates of SGD, Adam, RMSprop and Adagrad, decoupled weight decay, the finiteness test of
// check_finite / check_numerics, the clipping factor of clipnorm / global_clipnorm and the loss
// scale factor. Each update rule updates element i of its arrays in place (pointer and index,
// not references: an optional array is null and never dereferenced), written exactly as the
// CPU's vectorised loops were; the arrays are __restrict__ (distinct buffers), so that once a
// rule is inlined the compiler keeps g[i] and m[i] in registers across the stores as before.
//
// Bit-identity between the two backends needs each operation rounded on its own: the CPU core is
// built with -ffp-contract=off and the CUDA files that call these with nvcc's -fmad=false (see
// CMakeLists.txt); sqrt and division are IEEE-rounded on both (nvcc's default -prec-sqrt=true
// -prec-div=true).
#pragma once
#include <cmath>
#include <cstdint>

#include "backend/step_state.h"
#include "core/host_device.h"

namespace ff {

// x - x: 0 for a finite x, NaN for NaN and +-Inf. A sum of these over a chunk is non-zero exactly
// when the chunk holds a non-finite value (the CPU's branch-free test); a CUDA thread tests each.
FF_HD inline float finite_residue(float x) { return x - x; }
FF_HD inline bool is_nonfinite(float x) { return finite_residue(x) != 0.0f; }

// clipnorm / global_clipnorm: whether x is scaled (its norm sqrt(norm_squares) exceeds
// max_norm; a NaN norm scales nothing) and by what factor.
FF_HD inline bool norm_clip_factor(double norm_squares, float max_norm, float* factor) {
  const double norm = std::sqrt(norm_squares);
  if (!(norm > max_norm)) return false;
  *factor = static_cast<float>(max_norm / norm);
  return true;
}

// Loss scaling: whether the gradient is scaled and by what: by loss_scale, or when unscaling by
// its inverse, only when the step's gradients are finite (a skipped step leaves them).
FF_HD inline bool loss_scale_factor(const StepState* s, bool unscale, float* factor) {
  if (!unscale) {
    *factor = s->loss_scale;
    return true;
  }
  if (!s->grads_finite) return false;
  *factor = 1.0f / s->loss_scale;  // scales are powers of two times the initial one
  return true;
}

// Decoupled weight decay: p *= this.
FF_HD inline float weight_decay_factor(float weight_decay, float learning_rate) {
  return 1.0f - weight_decay * learning_rate;
}

// Adam's step size, Keras's form: lr * sqrt(1 - beta2^t) / (1 - beta1^t), in double.
FF_HD inline float adam_step_size(const StepState* s) {
  return static_cast<float>(s->learning_rate * std::sqrt(s->bias_correction2) /
                            s->bias_correction1);
}

// SGD without momentum.
FF_HD inline void sgd_element(float* __restrict__ p, const float* __restrict__ g, int64_t i,
                              float lr) {
  p[i] -= lr * g[i];
}

// SGD with momentum m (Keras: m = momentum m - lr g; p += m, or with Nesterov
// p += momentum m - lr g).
FF_HD inline void sgd_momentum_element(float* __restrict__ p, const float* __restrict__ g,
                                       float* __restrict__ m, int64_t i, float lr, float momentum,
                                       bool nesterov) {
  m[i] = momentum * m[i] - lr * g[i];
  p[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
}

// Adam with alpha = adam_step_size: m += (g - m)(1 - beta1), v += (g^2 - v)(1 - beta2),
// p -= alpha m / (sqrt(v) + epsilon).
FF_HD inline void adam_element(float* __restrict__ p, const float* __restrict__ g,
                               float* __restrict__ m, float* __restrict__ v, int64_t i, float alpha,
                               float one_minus_b1, float one_minus_b2, float epsilon) {
  m[i] += (g[i] - m[i]) * one_minus_b1;
  v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
  p[i] -= alpha * m[i] / (std::sqrt(v[i]) + epsilon);
}

// AMSGrad: as Adam with vhat = max(vhat, v) in the denominator. The maximum is std::max's
// (vhat < v ? v : vhat): a NaN v leaves vhat, a NaN vhat stays (fmaxf would differ).
FF_HD inline void amsgrad_element(float* __restrict__ p, const float* __restrict__ g,
                                  float* __restrict__ m, float* __restrict__ v,
                                  float* __restrict__ vhat, int64_t i, float alpha,
                                  float one_minus_b1, float one_minus_b2, float epsilon) {
  m[i] += (g[i] - m[i]) * one_minus_b1;
  v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
  vhat[i] = vhat[i] < v[i] ? v[i] : vhat[i];
  p[i] -= alpha * m[i] / (std::sqrt(vhat[i]) + epsilon);
}

// RMSprop: v = rho v + (1 - rho) g^2; centered (mg not null): mg = rho mg + (1 - rho) g and the
// denominator v - mg^2; inc = lr g / sqrt(denominator + epsilon); with momentum (mom not null)
// mom = momentum mom + inc and p -= mom, else p -= inc.
FF_HD inline void rmsprop_element(float* __restrict__ p, const float* __restrict__ g,
                                  float* __restrict__ v, float* __restrict__ mg,
                                  float* __restrict__ mom, int64_t i, float lr, float rho,
                                  float momentum, float epsilon) {
  v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
  float denom = v[i];
  if (mg) {
    mg[i] = rho * mg[i] + (1.0f - rho) * g[i];
    denom = v[i] - mg[i] * mg[i];
  }
  float inc = lr * g[i] / std::sqrt(denom + epsilon);
  if (mom) {
    mom[i] = momentum * mom[i] + inc;
    p[i] -= mom[i];
  } else {
    p[i] -= inc;
  }
}

// Adagrad: acc += g^2, p -= lr g / sqrt(acc + epsilon).
FF_HD inline void adagrad_element(float* __restrict__ p, const float* __restrict__ g,
                                  float* __restrict__ acc, int64_t i, float lr, float epsilon) {
  acc[i] += g[i] * g[i];
  p[i] -= lr * g[i] / std::sqrt(acc[i] + epsilon);
}

}  // namespace ff
