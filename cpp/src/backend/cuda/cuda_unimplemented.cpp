// The backend functions the CUDA backend does not have yet (convolution: issue 15 brings it with
// cuDNN; pooling, padding, normalization and image transforms are in cuda_pooling.cu,
// cuda_normalization.cu and cuda_image.cu). Each raises an error naming the function and what
// to do; nothing falls back to the CPU silently.
#include <stdexcept>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "core/errors.h"

namespace ff::cuda {

void not_on_cuda(const char* kernel) {
  throw ValueError(std::string("not implemented on the CUDA backend: ") + kernel +
                   " (convolution layers do not run on the GPU yet); run this model on the CPU "
                   "with FORGEFLOW_DEVICE=cpu or ff.config.set_visible_devices([], \"GPU\")");
}

void CudaBackend::conv2d_forward(const Conv2DGeometry&, const float*, const float*, float*) {
  not_on_cuda("conv2d_forward");
}

void CudaBackend::conv2d_backward_data(const Conv2DGeometry&, const float*, const float*, float*) {
  not_on_cuda("conv2d_backward_data");
}

void CudaBackend::conv2d_backward_filter(const Conv2DGeometry&, const float*, const float*, float*,
                                         float*) {
  not_on_cuda("conv2d_backward_filter");
}

}  // namespace ff::cuda
