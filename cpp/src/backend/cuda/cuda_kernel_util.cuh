// Launch shapes, warp and block reductions, and the deterministic grid reduction that the CUDA
// backend's elementwise, loss and metric kernels share (cuda_elementwise.cu, cuda_losses.cu,
// cuda_metrics.cu). Every reduction is in a fixed order: the same grid for the same sizes,
// sequential sums per thread, fixed trees in shared memory and butterflies in a warp (all lanes
// end with the same bits: float addition is commutative), then the last block to finish adds
// the blocks' partials in block order. No floating-point atomics: the only atomic is the integer
// counter that elects the last block. The same inputs give the same bits on every run.
//
// The grid reduction's scratch is module memory of the including file (__device__ arrays, one
// copy per GPU), so nothing is allocated on the launch path and a captured CUDA graph replays it.
// Kernels using it must not run concurrently with each other: every kernel of the backend runs
// on the compute stream (CudaBackend::stream()), which orders them.
#pragma once
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/step_state.h"

namespace ff::cuda {
namespace {

constexpr int kThreads = 256;           // threads per block of every kernel here (a power of two)
constexpr int kWarpSize = 32;
constexpr int kWarpsPerBlock = kThreads / kWarpSize;
constexpr int64_t kMaxBlocks = 1024;    // grid-stride loops cover the rest
constexpr long long kNoIndex = LLONG_MAX;  // "no flagged index" for the min reductions

// Blocks for `work` items, `per_block` items per block: at least 1 (a reduction always runs, so
// a kernel adding an empty batch still adds its 0), at most kMaxBlocks.
inline unsigned int blocks_for(int64_t work, int64_t per_block = kThreads) {
  int64_t b = (work + per_block - 1) / per_block;
  if (b < 1) b = 1;
  if (b > kMaxBlocks) b = kMaxBlocks;
  return static_cast<unsigned int>(b);
}

// Grid-stride indices (int64: sizes never assumed to fit an int).
__device__ inline int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_threads() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }
// Warp-per-row kernels: this thread's warp, the grid's warps and the lane.
__device__ inline int64_t global_warp() { return global_thread() / kWarpSize; }
__device__ inline int64_t grid_warps() { return grid_threads() / kWarpSize; }
__device__ inline int lane() { return static_cast<int>(threadIdx.x) % kWarpSize; }

// ---- warp butterflies: every lane ends with the same result ----
__device__ inline float warp_sum(float v) {
  for (int m = kWarpSize / 2; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}
__device__ inline double warp_sum(double v) {
  for (int m = kWarpSize / 2; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}
__device__ inline int64_t warp_sum(int64_t v) {
  for (int m = kWarpSize / 2; m > 0; m >>= 1)
    v += static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(v), m));
  return v;
}
// The largest non-NaN value (-Inf when there is none) and whether any lane saw a NaN.
__device__ inline float warp_max(float v) {
  for (int m = kWarpSize / 2; m > 0; m >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, m);
    v = v < o ? o : v;
  }
  return v;
}
__device__ inline bool warp_any(bool b) { return __any_sync(0xffffffffu, b) != 0; }

// ---- block reductions (all threads of the block call them; blockDim.x == kThreads) ----
__device__ inline double block_sum(double v) {
  __shared__ double sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();
  return r;
}
__device__ inline long long block_min(long long v) {
  __shared__ long long sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s && sh[threadIdx.x + s] < sh[threadIdx.x])
      sh[threadIdx.x] = sh[threadIdx.x + s];
    __syncthreads();
  }
  const long long r = sh[0];
  __syncthreads();
  return r;
}

// ---- the grid reduction ----
__device__ double g_block_sums[kMaxBlocks];
__device__ long long g_block_firsts[kMaxBlocks];
__device__ unsigned int g_blocks_arrived = 0;

// Every thread of every block calls this once, at the end of its kernel, with its share of a
// double sum and the smallest index it flagged (kNoIndex: none). The last block to arrive calls
// finish(total, first) from one thread, where total is the grid's sum (blocks' partials added
// in block order) and first the smallest flagged index of the grid. Deterministic for a fixed
// grid: which block arrives last does not change the result.
template <class Finish>
__device__ void reduce_grid(double sum, long long first, Finish finish) {
  __shared__ int is_last;
  sum = block_sum(sum);
  first = block_min(first);
  if (threadIdx.x == 0) {
    g_block_sums[blockIdx.x] = sum;
    g_block_firsts[blockIdx.x] = first;
    __threadfence();  // the partials are visible before the arrival is counted
    is_last = atomicAdd(&g_blocks_arrived, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  double total = 0.0;
  long long flagged = kNoIndex;
  for (unsigned int b = threadIdx.x; b < gridDim.x; b += blockDim.x) {
    total += __ldcg(&g_block_sums[b]);  // from L2: written by other blocks
    const long long f = __ldcg(&g_block_firsts[b]);
    flagged = f < flagged ? f : flagged;
  }
  total = block_sum(total);
  flagged = block_min(flagged);
  if (threadIdx.x == 0) {
    g_blocks_arrived = 0;  // ready for the next kernel on the stream
    finish(total, flagged);
  }
}

// record_step_error (backend/step_state.h) with `halted` taken atomically, as the contract asks
// of a CUDA kernel: the first error of the loop wins; the fields written are record_step_error's.
__device__ inline void record_step_error_atomic(StepState* s, StepError error, int32_t where,
                                                int32_t pass, int64_t index, double value) {
  if (atomicCAS(reinterpret_cast<int*>(&s->halted), 0, 1) != 0) return;
  write_step_error(s, error, where, pass, index, value);
}

}  // namespace
}  // namespace ff::cuda
