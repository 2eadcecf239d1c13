// The backend functions the CUDA backend does not have yet (convolution, pooling, padding,
// normalization and image transforms: issue 15 brings them with cuDNN). Each raises an error
// naming the function and what to do; nothing falls back to the CPU silently.
#include <stdexcept>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "core/errors.h"

namespace ff::cuda {

void not_on_cuda(const char* kernel) {
  throw ValueError(std::string("not implemented on the CUDA backend: ") + kernel +
                   " (convolution, pooling, normalization and image layers do not run on the "
                   "GPU yet); run this model on the CPU with FORGEFLOW_DEVICE=cpu or "
                   "ff.config.set_visible_devices([], \"GPU\")");
}

void CudaBackend::max_pool2d_forward(const Pool2DGeometry&, const float*, float*) {
  not_on_cuda("max_pool2d_forward");
}

void CudaBackend::max_pool2d_backward(const Pool2DGeometry&, const float*, const float*, float*) {
  not_on_cuda("max_pool2d_backward");
}

void CudaBackend::avg_pool2d_forward(const Pool2DGeometry&, const float*, float*) {
  not_on_cuda("avg_pool2d_forward");
}

void CudaBackend::avg_pool2d_backward(const Pool2DGeometry&, const float*, float*) {
  not_on_cuda("avg_pool2d_backward");
}

void CudaBackend::zero_pad2d_forward(const Pad2DGeometry&, const float*, float*) {
  not_on_cuda("zero_pad2d_forward");
}

void CudaBackend::zero_pad2d_backward(const Pad2DGeometry&, const float*, float*) {
  not_on_cuda("zero_pad2d_backward");
}

void CudaBackend::batch_norm_forward_training(const float*, float*, int64_t, int64_t, const float*,
                                              const float*, float, float, float*, float*, float*,
                                              float*, const StepState*) {
  not_on_cuda("batch_norm_forward_training");
}

void CudaBackend::batch_norm_forward_inference(const float*, float*, int64_t, int64_t, const float*,
                                               const float*, const float*, const float*, float,
                                               float*, float*) {
  not_on_cuda("batch_norm_forward_inference");
}

void CudaBackend::batch_norm_backward(const float*, const float*, int64_t, int64_t, const float*,
                                      const float*, const float*, bool, float*, float*, float*) {
  not_on_cuda("batch_norm_backward");
}

void CudaBackend::affine_transform_images(const float*, float*, int64_t, int64_t, int64_t, int64_t,
                                          const float*, Interpolation, FillMode, float) {
  not_on_cuda("affine_transform_images");
}

void CudaBackend::affine_transform_images_backward(const float*, float*, int64_t, int64_t, int64_t,
                                                   int64_t, const float*, Interpolation, FillMode) {
  not_on_cuda("affine_transform_images_backward");
}

void CudaBackend::flip_images(const float*, float*, int64_t, int64_t, int64_t, int64_t,
                              const float*) {
  not_on_cuda("flip_images");
}

void CudaBackend::random_flips(const FlipSpec&, int64_t, float*, const StepState*) {
  not_on_cuda("random_flips");
}

void CudaBackend::random_affine_matrices(const AffineSpec&, int64_t, int64_t, int64_t, float*,
                                         const StepState*) {
  not_on_cuda("random_affine_matrices");
}

}  // namespace ff::cuda
