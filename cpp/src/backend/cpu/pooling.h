// CPU pooling and zero-padding kernels (NHWC, float32) behind Backend::max_pool2d_*,
// avg_pool2d_* and zero_pad2d_*: free functions that the CpuBackend overrides call.
#pragma once
#include "backend/window_geometry.h"

namespace ff::cpu {

void max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y);
void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy, float* dx);
void avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y);
void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx);
void zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y);
void zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx);

}  // namespace ff::cpu
