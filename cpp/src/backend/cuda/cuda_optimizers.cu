// PLACEHOLDER until this family's kernels land: every function raises not_on_cuda.
#include "backend/cuda/cuda_backend.h"

namespace ff::cuda {

void CudaBackend::sgd_update(float*, const float*, float*, int64_t, float, bool, const StepState*) { not_on_cuda("sgd_update"); }
void CudaBackend::adam_update(float*, const float*, float*, float*, float*, int64_t, float, float, float, const StepState*) { not_on_cuda("adam_update"); }
void CudaBackend::rmsprop_update(float*, const float*, float*, float*, float*, int64_t, float, float, float, const StepState*) { not_on_cuda("rmsprop_update"); }
void CudaBackend::adagrad_update(float*, const float*, float*, int64_t, float, const StepState*) { not_on_cuda("adagrad_update"); }
void CudaBackend::decay_weights(float*, int64_t, float, const StepState*) { not_on_cuda("decay_weights"); }

}  // namespace ff::cuda
