// CPU convolution kernels (NHWC, float32) behind Backend::conv2d_*: free functions that the
// CpuBackend overrides call. `be` supplies the GEMM (oneDNN's sgemm or CBLAS).
#pragma once
#include "backend/backend.h"

namespace ff::cpu {

void conv2d_forward(Backend& be, const Conv2DGeometry& g, const float* x, const float* kernel,
                    float* y);
void conv2d_backward_data(Backend& be, const Conv2DGeometry& g, const float* dy,
                          const float* kernel, float* dx);
void conv2d_backward_filter(Backend& be, const Conv2DGeometry& g, const float* x,
                            const float* dy, float* dkernel);

}  // namespace ff::cpu
