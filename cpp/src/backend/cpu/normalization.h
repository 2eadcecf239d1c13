// CPU kernels of the normalization layers (BatchNormalization, Normalization, Rescaling): free
// functions behind the matching Backend methods (see backend/backend.h for their contracts).
// Tensors are viewed as rows x channels (channels last). Per-channel reductions accumulate in
// double over fixed row chunks added in a fixed order, so results never depend on thread count.
#pragma once
#include <cstdint>

namespace ff::cpu {

void batch_norm_forward_training(const float* x, float* y, int64_t rows, int64_t channels,
                                 const float* gamma, const float* beta, float epsilon,
                                 float momentum, float* moving_mean, float* moving_var,
                                 float* saved_mean, float* saved_inv_std);

void batch_norm_forward_inference(const float* x, float* y, int64_t rows, int64_t channels,
                                  const float* gamma, const float* beta, const float* moving_mean,
                                  const float* moving_var, float epsilon, float* saved_mean,
                                  float* saved_inv_std);

void batch_norm_backward(const float* x, const float* dy, int64_t rows, int64_t channels,
                         const float* gamma, const float* saved_mean, const float* saved_inv_std,
                         bool batch_stats, float* dx, float* dgamma, float* dbeta);

void scale_shift(const float* x, float* y, int64_t n, float scale, float offset);

void normalize(const float* x, float* y, int64_t rows, int64_t channels, const float* mean,
               const float* variance, bool invert);

}  // namespace ff::cpu
