// PLACEHOLDER until this family's kernels land: every function raises not_on_cuda.
#include "backend/cuda/cuda_backend.h"

namespace ff::cuda {

void CudaBackend::fill(float*, int64_t, float) { not_on_cuda("fill"); }
void CudaBackend::bias_activation(float*, const float*, int64_t, int64_t, Activation, float, float*) { not_on_cuda("bias_activation"); }
void CudaBackend::activation_forward(Activation, float, const float*, float*, int64_t, int64_t) { not_on_cuda("activation_forward"); }
void CudaBackend::activation_backward(Activation, float, const float*, const float*, const float*, float*, int64_t, int64_t) { not_on_cuda("activation_backward"); }
void CudaBackend::column_sum(const float*, int64_t, int64_t, float*) { not_on_cuda("column_sum"); }
void CudaBackend::dropout(const float*, float*, int64_t, float, uint64_t, const StepState*) { not_on_cuda("dropout"); }
void CudaBackend::scale(float*, int64_t, float) { not_on_cuda("scale"); }
void CudaBackend::round_to_precision(float*, const float*, int64_t, DType) { not_on_cuda("round_to_precision"); }
void CudaBackend::add(float*, const float*, int64_t) { not_on_cuda("add"); }
void CudaBackend::multiply(float*, const float*, int64_t) { not_on_cuda("multiply"); }
void CudaBackend::copy_2d(float*, int64_t, const float*, int64_t, int64_t, int64_t) { not_on_cuda("copy_2d"); }
void CudaBackend::clip(float*, int64_t, float, float) { not_on_cuda("clip"); }
void CudaBackend::scale_shift(const float*, float*, int64_t, float, float) { not_on_cuda("scale_shift"); }
void CudaBackend::normalize(const float*, float*, int64_t, int64_t, const float*, const float*, bool) { not_on_cuda("normalize"); }
void CudaBackend::category_encode(const float*, int64_t, int64_t, int64_t, CategoryMode, bool, float*, StepState*, int32_t) { not_on_cuda("category_encode"); }

}  // namespace ff::cuda
