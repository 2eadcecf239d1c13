// The CUDA backend's metrics: binary, categorical and sparse categorical accuracy (one warp per
// row) and the mean absolute / squared error (one grid-stride pass). Each adds its batch value
// into *sum (device memory) through the deterministic grid reduction of cuda_kernel_util.cuh.
// The rules are the CPU's (backend/loss_rules.h); argmax follows argmax_beats, a total order, so
// the warp's tree of pairwise picks finds the CPU's index (the first NaN, else the first largest
// value).
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_kernel_util.cuh"
#include "backend/loss_rules.h"

namespace ff::cuda {
namespace {

// The argmax of a row in argmax_beats's order, found by one warp; every lane returns it.
__device__ int64_t warp_argmax(const float* x, int64_t cols) {
  const int ln = lane();
  int64_t best = ln < cols ? ln : 0;
  float best_value = x[best];
  for (int64_t c = ln + kWarpSize; c < cols; c += kWarpSize)
    if (argmax_beats(x[c], c, best_value, best)) {
      best = c;
      best_value = x[c];
    }
  for (int m = kWarpSize / 2; m > 0; m >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best_value, m);
    const int64_t i =
        static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(best), m));
    if (argmax_beats(v, i, best_value, best)) {
      best = i;
      best_value = v;
    }
  }
  return best;
}

// Binary accuracy: per row the share of columns whose thresholded prediction equals the target.
__global__ void binary_accuracy_kernel(const float* pred, const float* target, int64_t rows,
                                       int64_t cols, float threshold, double* sum) {
  const int ln = lane();
  double acc = 0.0;
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    int64_t hits = 0;
    for (int64_t c = ln; c < cols; c += kWarpSize)
      hits += binary_hit(pred[r * cols + c], target[r * cols + c], threshold);
    hits = warp_sum(hits);
    if (ln == 0) acc += static_cast<double>(hits) / cols;
  }
  reduce_grid(acc, kNoIndex, [=](double total, long long) { *sum += total; });
}

// Categorical accuracy (target one-hot or probabilities: its argmax) and sparse categorical
// accuracy (labels): a row counts 1 when the argmaxes agree.
__global__ void categorical_accuracy_kernel(const float* pred, const float* target,
                                            const int64_t* labels, int64_t rows, int64_t cols,
                                            double* sum) {
  double acc = 0.0;
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    const int64_t predicted = warp_argmax(pred + r * cols, cols);
    const int64_t expected = labels ? labels[r] : warp_argmax(target + r * cols, cols);
    if (lane() == 0 && predicted == expected) acc += 1.0;
  }
  reduce_grid(acc, kNoIndex, [=](double total, long long) { *sum += total; });
}

// Mean over columns of |pred - target|^power, summed over rows: the element terms' sum / cols.
__global__ void mean_error_kernel(const float* pred, const float* target, int64_t n, int64_t cols,
                                  int power, double* sum) {
  double acc = 0.0;
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    acc += mean_error_term(pred[i], target[i], power);
  reduce_grid(acc, kNoIndex, [=](double total, long long) {
    *sum += total / static_cast<double>(cols);
  });
}

}  // namespace

void CudaBackend::metric_binary_accuracy(const float* pred, const float* target, int64_t rows,
                                         int64_t cols, float threshold, double* sum) {
  binary_accuracy_kernel<<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
      pred, target, rows, cols, threshold, sum);
  FF_CUDA_LAUNCH_CHECK("binary_accuracy_kernel");
}

void CudaBackend::metric_categorical_accuracy(const float* pred, const float* target,
                                              int64_t rows, int64_t cols, double* sum) {
  if (cols <= 0) return;  // the CPU's argmax reads x[0]: no row can be scored without a column
  categorical_accuracy_kernel<<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
      pred, target, nullptr, rows, cols, sum);
  FF_CUDA_LAUNCH_CHECK("categorical_accuracy_kernel");
}

void CudaBackend::metric_sparse_categorical_accuracy(const float* pred, const int64_t* labels,
                                                     int64_t rows, int64_t cols, double* sum) {
  if (cols <= 0) return;
  categorical_accuracy_kernel<<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
      pred, nullptr, labels, rows, cols, sum);
  FF_CUDA_LAUNCH_CHECK("categorical_accuracy_kernel");
}

void CudaBackend::metric_mean_error(const float* pred, const float* target, int64_t rows,
                                    int64_t cols, int power, double* sum) {
  const int64_t n = rows * cols;
  mean_error_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(pred, target, n, cols, power, sum);
  FF_CUDA_LAUNCH_CHECK("mean_error_kernel");
}

}  // namespace ff::cuda
