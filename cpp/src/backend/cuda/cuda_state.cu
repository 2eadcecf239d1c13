// PLACEHOLDER until this family's kernels land: every function raises not_on_cuda.
#include "backend/cuda/cuda_backend.h"

namespace ff::cuda {

void CudaBackend::clip_by_norm(float*, int64_t, float) { not_on_cuda("clip_by_norm"); }
void CudaBackend::add_sum_squares(const float*, int64_t, StepState*) { not_on_cuda("add_sum_squares"); }
void CudaBackend::clip_by_global_norm(float*, int64_t, float, const StepState*) { not_on_cuda("clip_by_global_norm"); }
void CudaBackend::step_begin(StepState*, bool) { not_on_cuda("step_begin"); }
void CudaBackend::step_end(StepState*, bool, double) { not_on_cuda("step_end"); }
void CudaBackend::prepare_update(StepState*, const ScheduleSpec&, float, float) { not_on_cuda("prepare_update"); }
void CudaBackend::finish_update(StepState*) { not_on_cuda("finish_update"); }
void CudaBackend::loss_scale_update(StepState*, int64_t) { not_on_cuda("loss_scale_update"); }
void CudaBackend::check_finite(const float*, int64_t, StepState*) { not_on_cuda("check_finite"); }
void CudaBackend::apply_loss_scale(float*, int64_t, const StepState*, bool) { not_on_cuda("apply_loss_scale"); }
void CudaBackend::check_numerics(const float*, int64_t, StepState*, int32_t, StepPass) { not_on_cuda("check_numerics"); }
void CudaBackend::check_numerics_sums(StepState*, int32_t, int32_t, int32_t) { not_on_cuda("check_numerics_sums"); }

}  // namespace ff::cuda
