// CPU kernels of the ReLU, PReLU, UpSampling2D and LayerNormalization layers and of the
// depthwise convolution (DepthwiseConv2D, SeparableConv2D): free functions
// behind the matching Backend methods (backend/backend.h has their contracts,
// backend/layer_rules.h the per-element rules shared with the CUDA kernels). Reductions follow
// fixed orders that do not depend on the thread count, and that the CUDA kernels reproduce.
#pragma once
#include <cstdint>

#include "backend/layer_rules.h"
#include "backend/window_geometry.h"

namespace ff::cpu {

void relu_forward(const float* x, float* y, int64_t n, float max_value, float negative_slope,
                  float threshold);
void relu_backward(const float* x, const float* dy, float* dx, int64_t n, float max_value,
                   float negative_slope, float threshold);
void prelu_forward(const PReluGeometry& g, const float* x, const float* alpha, float* y);
void prelu_backward(const PReluGeometry& g, const float* x, const float* alpha, const float* dy,
                    float* dx, float* dalpha);
void upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y);
void upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx);
void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
                        const float* beta, float epsilon, float* saved_mean,
                        float* saved_inv_std);
void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                         const float* gamma, const float* saved_mean, const float* saved_inv_std,
                         float* dx, float* dgamma, float* dbeta);
void depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                              float* y);
void depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                                    float* dx);
void depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                      float* dkernel);

}  // namespace ff::cpu
