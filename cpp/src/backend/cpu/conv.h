// CPU convolution kernels (NHWC, float32) behind Backend::conv2d_*: free functions that the
// CpuBackend overrides call. `be` supplies the GEMM (oneDNN's sgemm or CBLAS) of the im2col path.
#pragma once
#include "backend/backend.h"

namespace ff::cpu {

void conv2d_forward(Backend& be, const Conv2DGeometry& g, const float* x, const float* kernel,
                    float* y);
void conv2d_backward_data(Backend& be, const Conv2DGeometry& g, const float* dy,
                          const float* kernel, float* dx);
void conv2d_backward_filter(Backend& be, const Conv2DGeometry& g, const float* x,
                            const float* dy, float* dkernel, float* dbias);

// Which code the convolution kernels run: oneDNN's convolution primitives (the default where
// the build has oneDNN: faster here, numbers at the top of conv.cpp; the filter gradient over
// fixed groups of samples on single-threaded primitives) or im2col + GEMM (always built). For
// tests and benchmarks that compare the two; set per process, not per thread.
enum class ConvImpl { Im2col, OneDnn };
bool onednn_conv_available();
ConvImpl conv_impl();
// OneDnn in a build without oneDNN raises ValueError.
void set_conv_impl(ConvImpl impl);

}  // namespace ff::cpu
