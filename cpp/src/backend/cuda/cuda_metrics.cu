// PLACEHOLDER until this family's kernels land: every function raises not_on_cuda.
#include "backend/cuda/cuda_backend.h"

namespace ff::cuda {

void CudaBackend::metric_binary_accuracy(const float*, const float*, int64_t, int64_t, float, double*) { not_on_cuda("metric_binary_accuracy"); }
void CudaBackend::metric_categorical_accuracy(const float*, const float*, int64_t, int64_t, double*) { not_on_cuda("metric_categorical_accuracy"); }
void CudaBackend::metric_sparse_categorical_accuracy(const float*, const int64_t*, int64_t, int64_t, double*) { not_on_cuda("metric_sparse_categorical_accuracy"); }
void CudaBackend::metric_mean_error(const float*, const float*, int64_t, int64_t, int, double*) { not_on_cuda("metric_mean_error"); }

}  // namespace ff::cuda
