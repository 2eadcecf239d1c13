// PLACEHOLDER until this family's kernels land: every function raises not_on_cuda.
#include "backend/cuda/cuda_backend.h"

namespace ff::cuda {

void CudaBackend::loss_mse(const float*, const float*, int64_t, int64_t, double*, float*, float) { not_on_cuda("loss_mse"); }
void CudaBackend::loss_mae(const float*, const float*, int64_t, int64_t, double*, float*, float) { not_on_cuda("loss_mae"); }
void CudaBackend::loss_huber(const float*, const float*, int64_t, int64_t, float, double*, float*, float) { not_on_cuda("loss_huber"); }
void CudaBackend::loss_binary_crossentropy(const float*, const float*, int64_t, int64_t, bool, double*, float*, float) { not_on_cuda("loss_binary_crossentropy"); }
void CudaBackend::loss_categorical_crossentropy(const float*, const float*, int64_t, int64_t, bool, double*, float*, float) { not_on_cuda("loss_categorical_crossentropy"); }
void CudaBackend::loss_sparse_categorical_crossentropy(const float*, const int64_t*, int64_t, int64_t, bool, double*, float*, float, StepState*, int32_t) { not_on_cuda("loss_sparse_categorical_crossentropy"); }

}  // namespace ff::cuda
