// The CUDA backend's step-state kernels (backend/step_state.h), the clipping norms and the
// finiteness checks (check_finite, check-numerics, loss scaling). The state rules are the FF_HD
// functions of step_state.h and backend/optimizer_rules.h, run by one-thread kernels, so the GPU
// advances the block exactly as the CPU does. Nothing here waits for the GPU or reads it to the
// host; every value that changes per step is read from the block by the kernel (the calls are
// captured once in a CUDA graph and replayed).
//
// Sums of squares are deterministic: a grid fixed by n alone (never by the GPU), each block's
// partial in double in a fixed tree, then one block adding the partials in a fixed order. Their
// scratch is module memory (__device__ arrays, one copy per GPU), so nothing is allocated on the
// launch path. Errors are recorded with the one integer atomic the contract allows: the block
// that finds a NaN/Inf takes `halted` with atomicCAS, and only the winner writes the error (all
// candidates of one call would write the same fields, so the result does not depend on which
// block wins). No floating-point atomics.
//
// Compiled with nvcc's -fmad=false (CMakeLists.txt): no multiply-add is contracted into an FMA,
// as on the CPU (-ffp-contract=off), so the schedules (cosine: a * b + c) and the factors give
// the CPU's bits where the math library allows (pow, cos differ by a few ulp at most).
#include <algorithm>
#include <cmath>
#include <mutex>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_half_io.cuh"
#include "backend/optimizer_rules.h"
#include "backend/penalty_rules.h"
#include "backend/step_state.h"

namespace ff::cuda {
namespace {

constexpr int kStateThreads = 256;  // threads per block of every multi-thread kernel here
// At most this many blocks per kernel (grid-stride loops cover the rest); also the number of
// partial sums a reduction leaves, so the scratch below is fixed.
constexpr int64_t kStateMaxBlocks = 1024;

// Scratch of the sums of squares: one partial per block, and clip_by_norm's total (read by its
// scale kernel). Launch sequences that use it are enqueued under state_scratch_mu so that two
// host threads sharing the backend cannot interleave them on the compute stream.
__device__ double g_state_partials[kStateMaxBlocks];
__device__ double g_clip_norm_squares;
std::mutex state_scratch_mu;

// Blocks for n elements: at least 1, at most kStateMaxBlocks; a function of n only.
unsigned int state_blocks(int64_t n) {
  return static_cast<unsigned int>(
      std::clamp<int64_t>((n + kStateThreads - 1) / kStateThreads, 1, kStateMaxBlocks));
}

__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * kStateThreads + threadIdx.x;
}
__device__ inline int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * kStateThreads; }

// The sum of v over the block, in a fixed tree (the same bits every run); valid in every thread.
// All threads of the block call it.
__device__ double block_sum(double v) {
  __shared__ double sh[kStateThreads];
  __syncthreads();  // a previous call's readers of sh[0] are done
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kStateThreads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  return sh[0];
}

// A block-uniform read of an int flag of the block that other blocks of the same kernel may be
// changing (atomically): thread 0 reads it once, every thread of the block sees that value.
__device__ int block_read(const int32_t* flag) {
  __shared__ int value;
  if (threadIdx.x == 0) value = *reinterpret_cast<const volatile int32_t*>(flag);
  __syncthreads();
  return value;
}

// Records an error found inside a multi-block kernel: the first to take `halted` writes it.
__device__ void record_step_error_atomic(StepState* s, StepError error, int32_t where,
                                         int32_t pass, int64_t index, double value) {
  if (atomicCAS(reinterpret_cast<int*>(&s->halted), 0, 1) != 0) return;
  write_step_error(s, error, where, pass, index, value);
}

// ---- sums of squares ----

// g_state_partials[block] = the block's sum of x[i]^2 in double (as the CPU's sum_of_squares).
__global__ void __launch_bounds__(kStateThreads)
    sum_squares_partials_kernel(const float* __restrict__ x, int64_t n) {
  double acc = 0.0;
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const double v = x[i];
    acc += v * v;
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) g_state_partials[blockIdx.x] = total;
}

// One block: *out += the sum of the first `count` partials, in a fixed order, or when out is
// null g_clip_norm_squares = that sum.
__global__ void __launch_bounds__(kStateThreads) sum_partials_kernel(int count, double* out) {
  double acc = 0.0;
  for (int i = static_cast<int>(threadIdx.x); i < count; i += kStateThreads)
    acc += g_state_partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) {
    if (out)
      *out += total;
    else
      g_clip_norm_squares = total;
  }
}

// ---- penalties (backend/penalty_rules.h) ----

// g_state_partials[block] = the block's sum of p(x[i]) in double.
__global__ void __launch_bounds__(kStateThreads)
    penalty_partials_kernel(const float* __restrict__ x, int64_t n, PenaltySpec spec) {
  double acc = 0.0;
  for (int64_t i = first_index(); i < n; i += grid_stride()) acc += penalty_value(x[i], spec);
  const double total = block_sum(acc);
  if (threadIdx.x == 0) g_state_partials[blockIdx.x] = total;
}

// One block: *out += scale * the sum of the first `count` partials, in a fixed order.
__global__ void __launch_bounds__(kStateThreads)
    penalty_total_kernel(int count, double scale, double* out) {
  double acc = 0.0;
  for (int i = static_cast<int>(threadIdx.x); i < count; i += kStateThreads)
    acc += g_state_partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) *out += scale * total;
}

// grad[i] = (or +=) state->loss_scale * p'(x[i]).
__global__ void __launch_bounds__(kStateThreads)
    penalty_grad_kernel(const float* __restrict__ x, int64_t n, PenaltySpec spec,
                        float* __restrict__ grad, bool accumulate, const StepState* s) {
  const float scale = s->loss_scale;
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float g = scale * penalty_grad(x[i], spec);
    grad[i] = accumulate ? grad[i] + g : g;
  }
}

// x *= max_norm / sqrt(norm_squares) when that norm exceeds max_norm (norm_clip_factor), with
// norm_squares = *norm_squares or when null g_clip_norm_squares.
__global__ void __launch_bounds__(kStateThreads)
    clip_to_norm_kernel(float* __restrict__ x, int64_t n, float max_norm,
                        const double* norm_squares) {
  float factor;
  if (!norm_clip_factor(norm_squares ? *norm_squares : g_clip_norm_squares, max_norm, &factor))
    return;
  for (int64_t i = first_index(); i < n; i += grid_stride()) x[i] *= factor;
}

// Enqueues the two passes that add sum(x^2) to *out, or leave it in g_clip_norm_squares when
// out is null. Called with state_scratch_mu held.
void enqueue_sum_squares(cudaStream_t stream, const float* x, int64_t n, double* out) {
  const unsigned int blocks = state_blocks(n);
  sum_squares_partials_kernel<<<blocks, kStateThreads, 0, stream>>>(x, n);
  FF_CUDA_LAUNCH_CHECK("sum_squares_partials_kernel");
  sum_partials_kernel<<<1, kStateThreads, 0, stream>>>(static_cast<int>(blocks), out);
  FF_CUDA_LAUNCH_CHECK("sum_partials_kernel");
}

// ---- finiteness and loss scaling ----

// state->grads_finite = 0 when x holds a NaN or Inf (nothing to do once it is 0).
__global__ void __launch_bounds__(kStateThreads)
    check_finite_kernel(const float* __restrict__ x, int64_t n, StepState* s) {
  if (block_read(&s->grads_finite) == 0) return;  // block-uniform
  int found = 0;
  for (int64_t i = first_index(); i < n && !found; i += grid_stride()) found = is_nonfinite(x[i]);
  if (__syncthreads_or(found) && threadIdx.x == 0)
    atomicExch(reinterpret_cast<int*>(&s->grads_finite), 0);
}

// check_numerics: a NonFinite error at `node` when x holds a NaN or Inf, unless the loop is
// halted already or the pass is exempt (nonfinite_is_error: a scaled gradient's overflow). x is
// read through a storage policy (cuda_half_io.cuh): float32, or 16-bit values decoded.
template <class IO>
__global__ void __launch_bounds__(kStateThreads)
    check_numerics_kernel(const typename IO::T* __restrict__ x, int64_t n, StepState* s,
                          int32_t node, StepPass pass) {
  if (block_read(&s->halted) != 0 || !nonfinite_is_error(s, pass)) return;  // block-uniform
  int found = 0;
  for (int64_t i = first_index(); i < n && !found; i += grid_stride())
    found = is_nonfinite(IO::load(x, i));
  if (__syncthreads_or(found) && threadIdx.x == 0)
    record_step_error_atomic(s, StepError::NonFinite, node, static_cast<int32_t>(pass), -1, 0.0);
}

// x *= the loss scale, or /= it when unscaling a finite step (loss_scale_factor).
__global__ void __launch_bounds__(kStateThreads)
    apply_loss_scale_kernel(float* __restrict__ x, int64_t n, const StepState* s, bool unscale) {
  float factor;
  if (!loss_scale_factor(s, unscale, &factor)) return;
  for (int64_t i = first_index(); i < n; i += grid_stride()) x[i] *= factor;
}

// ---- one-thread kernels applying the step_state.h rules ----

__global__ void step_begin_kernel(StepState* s, bool training) { state_step_begin(s, training); }

__global__ void step_end_kernel(StepState* s, bool training, double count) {
  state_step_end(s, training, count);
}

// The schedule is a kernel argument (fixed for the optimizer; a piecewise schedule's arrays are
// backend memory); everything that changes per step comes from the block.
__global__ void prepare_update_kernel(StepState* s, ScheduleSpec schedule, float beta1,
                                      float beta2) {
  state_prepare_update(s, schedule, beta1, beta2);
}

__global__ void finish_update_kernel(StepState* s) { state_finish_update(s); }

__global__ void loss_scale_update_kernel(StepState* s, int64_t growth_steps) {
  state_loss_scale_update(s, growth_steps);
}

// check_numerics over the step's partial sums [first, first + count) of output `output`.
__global__ void check_numerics_sums_kernel(StepState* s, int32_t first, int32_t count,
                                           int32_t output) {
  const double* partial = step_sums(s, s->num_sums);
  for (int32_t i = first; i < first + count; ++i)
    if (!std::isfinite(partial[i])) {
      state_nonfinite(s, output, StepPass::Loss);
      return;
    }
}

}  // namespace

void CudaBackend::clip_by_norm(float* x, int64_t n, float max_norm) {
  if (n <= 0) return;  // the CPU's empty norm is 0: nothing is scaled
  std::lock_guard<std::mutex> lock(state_scratch_mu);
  enqueue_sum_squares(stream(), x, n, nullptr);  // into g_clip_norm_squares
  clip_to_norm_kernel<<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, max_norm, nullptr);
  FF_CUDA_LAUNCH_CHECK("clip_to_norm_kernel");
}

void CudaBackend::add_sum_squares(const float* x, int64_t n, StepState* state) {
  if (n <= 0) return;  // adds 0
  std::lock_guard<std::mutex> lock(state_scratch_mu);
  enqueue_sum_squares(stream(), x, n, &state->norm_squares);
}

void CudaBackend::penalty(const float* x, int64_t n, const PenaltySpec& spec, double* sum,
                          double sum_scale, float* grad, bool accumulate,
                          const StepState* state) {
  if (n <= 0) return;
  if (sum) {
    std::lock_guard<std::mutex> lock(state_scratch_mu);
    const unsigned int blocks = state_blocks(n);
    penalty_partials_kernel<<<blocks, kStateThreads, 0, stream()>>>(x, n, spec);
    FF_CUDA_LAUNCH_CHECK("penalty_partials_kernel");
    penalty_total_kernel<<<1, kStateThreads, 0, stream()>>>(static_cast<int>(blocks), sum_scale,
                                                             sum);
    FF_CUDA_LAUNCH_CHECK("penalty_total_kernel");
  }
  if (grad) {
    penalty_grad_kernel<<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, spec, grad,
                                                                          accumulate, state);
    FF_CUDA_LAUNCH_CHECK("penalty_grad_kernel");
  }
}

void CudaBackend::clip_by_global_norm(float* x, int64_t n, float max_norm,
                                      const StepState* state) {
  if (n <= 0) return;
  clip_to_norm_kernel<<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, max_norm,
                                                                        &state->norm_squares);
  FF_CUDA_LAUNCH_CHECK("clip_to_norm_kernel");
}

void CudaBackend::step_begin(StepState* state, bool training) {
  step_begin_kernel<<<1, 1, 0, stream()>>>(state, training);
  FF_CUDA_LAUNCH_CHECK("step_begin_kernel");
}

void CudaBackend::step_end(StepState* state, bool training, double count) {
  step_end_kernel<<<1, 1, 0, stream()>>>(state, training, count);
  FF_CUDA_LAUNCH_CHECK("step_end_kernel");
}

void CudaBackend::prepare_update(StepState* state, const ScheduleSpec& schedule, float beta1,
                                 float beta2) {
  prepare_update_kernel<<<1, 1, 0, stream()>>>(state, schedule, beta1, beta2);
  FF_CUDA_LAUNCH_CHECK("prepare_update_kernel");
}

void CudaBackend::finish_update(StepState* state) {
  finish_update_kernel<<<1, 1, 0, stream()>>>(state);
  FF_CUDA_LAUNCH_CHECK("finish_update_kernel");
}

void CudaBackend::loss_scale_update(StepState* state, int64_t growth_steps) {
  loss_scale_update_kernel<<<1, 1, 0, stream()>>>(state, growth_steps);
  FF_CUDA_LAUNCH_CHECK("loss_scale_update_kernel");
}

void CudaBackend::check_finite(const float* x, int64_t n, StepState* state) {
  if (n <= 0) return;
  check_finite_kernel<<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, state);
  FF_CUDA_LAUNCH_CHECK("check_finite_kernel");
}

void CudaBackend::apply_loss_scale(float* x, int64_t n, const StepState* state, bool unscale) {
  if (n <= 0) return;
  apply_loss_scale_kernel<<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, state, unscale);
  FF_CUDA_LAUNCH_CHECK("apply_loss_scale_kernel");
}

void CudaBackend::check_numerics(const float* x, int64_t n, StepState* state, int32_t node,
                                 StepPass pass) {
  if (n <= 0) return;
  check_numerics_kernel<Float32Io><<<state_blocks(n), kStateThreads, 0, stream()>>>(x, n, state,
                                                                                    node, pass);
  FF_CUDA_LAUNCH_CHECK("check_numerics_kernel");
}

void CudaBackend::check_numerics_half(const void* x, int64_t n, StepState* state, int32_t node,
                                      StepPass pass, DType half) {
  dispatch_half(half, "check_numerics_half", [&](auto io) {
    using IO = decltype(io);
    if (n <= 0) return;
    check_numerics_kernel<IO><<<state_blocks(n), kStateThreads, 0, stream()>>>(
        typed<IO>(x), n, state, node, pass);
    FF_CUDA_LAUNCH_CHECK("check_numerics_kernel (16-bit)");
  });
}

void CudaBackend::check_numerics_sums(StepState* state, int32_t first, int32_t count,
                                      int32_t output) {
  if (count <= 0) return;
  check_numerics_sums_kernel<<<1, 1, 0, stream()>>>(state, first, count, output);
  FF_CUDA_LAUNCH_CHECK("check_numerics_sums_kernel");
}

}  // namespace ff::cuda
