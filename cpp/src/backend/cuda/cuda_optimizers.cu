// The CUDA backend's fused optimizer updates: SGD (momentum, Nesterov), Adam (AMSGrad), RMSprop
// (centered, momentum), Adagrad and decoupled weight decay, one elementwise pass each over the
// contiguous parameter buffer. Each kernel reads from the step-state block whether the update
// applies (state->apply_update: nothing happens otherwise) and the rate (learning_rate, Adam's
// bias corrections), never from its arguments, so a captured CUDA graph replays them every step.
// Every element follows the rule of backend/optimizer_rules.h, the one the CPU's loops apply.
//
// Bit-identity with the CPU: this file is compiled with nvcc's -fmad=false (CMakeLists.txt), so
// no a * b + c of a rule is contracted into an FMA (the CPU core is built with
// -ffp-contract=off); sqrtf and division are IEEE-rounded (nvcc's defaults -prec-sqrt=true,
// -prec-div=true, no --use_fast_math). The flag was chosen over __fmul_rn/__fadd_rn intrinsics
// so that one source, the FF_HD rules, serves both backends; it costs nothing here: the updates
// are bound by memory bandwidth, not by arithmetic.
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/optimizer_rules.h"

namespace ff::cuda {
namespace {

constexpr int kOptThreads = 256;
constexpr int64_t kOptMaxBlocks = 4096;  // grid-stride loops cover the rest

unsigned int opt_blocks(int64_t n) {
  return static_cast<unsigned int>(
      std::clamp<int64_t>((n + kOptThreads - 1) / kOptThreads, 1, kOptMaxBlocks));
}

__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * kOptThreads + threadIdx.x;
}
__device__ inline int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * kOptThreads; }

__global__ void __launch_bounds__(kOptThreads)
    sgd_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
               int64_t n, float momentum, bool nesterov, const StepState* __restrict__ s) {
  if (!s->apply_update) return;
  const float lr = s->learning_rate;
  if (!m) {
    for (int64_t i = first_index(); i < n; i += grid_stride()) sgd_element(p, g, i, lr);
    return;
  }
  for (int64_t i = first_index(); i < n; i += grid_stride())
    sgd_momentum_element(p, g, m, i, lr, momentum, nesterov);
}

__global__ void __launch_bounds__(kOptThreads)
    adam_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                float* __restrict__ v, float* __restrict__ vhat, int64_t n, float one_minus_b1,
                float one_minus_b2, float epsilon, const StepState* __restrict__ s) {
  if (!s->apply_update) return;
  const float alpha = adam_step_size(s);
  if (vhat) {
    for (int64_t i = first_index(); i < n; i += grid_stride())
      amsgrad_element(p, g, m, v, vhat, i, alpha, one_minus_b1, one_minus_b2, epsilon);
    return;
  }
  for (int64_t i = first_index(); i < n; i += grid_stride())
    adam_element(p, g, m, v, i, alpha, one_minus_b1, one_minus_b2, epsilon);
}

__global__ void __launch_bounds__(kOptThreads)
    rmsprop_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ v,
                   float* __restrict__ mg, float* __restrict__ mom, int64_t n, float rho,
                   float momentum, float epsilon, const StepState* __restrict__ s) {
  if (!s->apply_update) return;
  const float lr = s->learning_rate;
  for (int64_t i = first_index(); i < n; i += grid_stride())
    rmsprop_element(p, g, v, mg, mom, i, lr, rho, momentum, epsilon);
}

__global__ void __launch_bounds__(kOptThreads)
    adagrad_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ acc,
                   int64_t n, float epsilon, const StepState* __restrict__ s) {
  if (!s->apply_update) return;
  const float lr = s->learning_rate;
  for (int64_t i = first_index(); i < n; i += grid_stride())
    adagrad_element(p, g, acc, i, lr, epsilon);
}

__global__ void __launch_bounds__(kOptThreads)
    decay_weights_kernel(float* __restrict__ p, int64_t n, float weight_decay,
                         const StepState* __restrict__ s) {
  if (!s->apply_update) return;
  const float factor = weight_decay_factor(weight_decay, s->learning_rate);
  for (int64_t i = first_index(); i < n; i += grid_stride()) p[i] *= factor;
}

}  // namespace

void CudaBackend::sgd_update(float* p, const float* g, float* momentum_buf, int64_t n,
                             float momentum, bool nesterov, const StepState* state) {
  if (n <= 0) return;
  sgd_kernel<<<opt_blocks(n), kOptThreads, 0, stream()>>>(p, g, momentum_buf, n, momentum,
                                                          nesterov, state);
  FF_CUDA_LAUNCH_CHECK("sgd_kernel");
}

void CudaBackend::adam_update(float* p, const float* g, float* m, float* v, float* vhat,
                              int64_t n, float beta1, float beta2, float epsilon,
                              const StepState* state) {
  if (n <= 0) return;
  // 1 - beta as the CPU computes them: on the host, in float.
  adam_kernel<<<opt_blocks(n), kOptThreads, 0, stream()>>>(p, g, m, v, vhat, n, 1.0f - beta1,
                                                           1.0f - beta2, epsilon, state);
  FF_CUDA_LAUNCH_CHECK("adam_kernel");
}

void CudaBackend::rmsprop_update(float* p, const float* g, float* v, float* mean_grad,
                                 float* momentum_buf, int64_t n, float rho, float momentum,
                                 float epsilon, const StepState* state) {
  if (n <= 0) return;
  rmsprop_kernel<<<opt_blocks(n), kOptThreads, 0, stream()>>>(p, g, v, mean_grad, momentum_buf,
                                                              n, rho, momentum, epsilon, state);
  FF_CUDA_LAUNCH_CHECK("rmsprop_kernel");
}

void CudaBackend::adagrad_update(float* p, const float* g, float* acc, int64_t n, float epsilon,
                                 const StepState* state) {
  if (n <= 0) return;
  adagrad_kernel<<<opt_blocks(n), kOptThreads, 0, stream()>>>(p, g, acc, n, epsilon, state);
  FF_CUDA_LAUNCH_CHECK("adagrad_kernel");
}

void CudaBackend::decay_weights(float* p, int64_t n, float weight_decay, const StepState* state) {
  if (n <= 0) return;
  decay_weights_kernel<<<opt_blocks(n), kOptThreads, 0, stream()>>>(p, n, weight_decay, state);
  FF_CUDA_LAUNCH_CHECK("decay_weights_kernel");
}

}  // namespace ff::cuda
