// The CUDA backend's losses: mean squared and absolute error, Huber and binary crossentropy
// (one grid-stride pass over the elements), categorical and sparse categorical crossentropy
// (one warp per row). Each writes dL/dpred * grad_scale into grad (when not null) and adds the
// batch's loss into *loss_sum (device memory) through the deterministic grid reduction of
// cuda_kernel_util.cuh: per-thread double sums, fixed-order trees, one thread adds. The
// per-element rules are the CPU's (backend/loss_rules.h); the row rules follow cpu_backend.cpp
// operation by operation, only the order of a row's float sums differs (a warp's tree).
#include <cmath>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_kernel_util.cuh"
#include "backend/loss_rules.h"

namespace ff::cuda {
namespace {

enum class ElementLoss { Mse, Mae, Huber, BinaryCrossentropy };

__device__ inline float nan_f() { return __int_as_float(0x7fc00000); }

// The elementwise losses: the loss is the sum of the element terms divided by cols (the mean over
// a row's columns, summed over rows), as the CPU adds total / cols.
__global__ void element_loss_kernel(ElementLoss kind, const float* pred, const float* target,
                                    int64_t n, int64_t cols, float delta, bool from_logits,
                                    double* loss_sum, float* grad, float g) {
  double acc = 0.0;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const float x = pred[i], t = target[i];
    const float d = x - t;
    switch (kind) {
      case ElementLoss::Mse:
        acc += mse_term(d);
        if (grad) grad[i] = g * d;
        break;
      case ElementLoss::Mae:
        acc += std::fabs(d);
        if (grad) grad[i] = mae_grad(d, g);
        break;
      case ElementLoss::Huber:
        acc += huber_term(d, delta);
        if (grad) grad[i] = huber_grad(d, delta, g);
        break;
      case ElementLoss::BinaryCrossentropy:
        acc += bce_term(x, t, from_logits);
        if (grad) grad[i] = bce_grad(x, t, from_logits, g);
        break;
    }
  }
  reduce_grid(acc, kNoIndex, [=](double total, long long) {
    *loss_sum += total / static_cast<double>(cols);
  });
}

// Categorical crossentropy, one warp per row (cpu_backend.cpp's loop body per row).
__global__ void categorical_crossentropy_kernel(const float* pred, const float* target,
                                                int64_t rows, int64_t cols, bool from_logits,
                                                double* loss_sum, float* grad, float grad_scale) {
  const int ln = lane();
  double acc = 0.0;  // lane 0's rows
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    const float* x = pred + r * cols;
    const float* t = target + r * cols;
    float* gr = grad ? grad + r * cols : nullptr;
    double row_loss;
    if (from_logits) {
      // -sum t * log_softmax(x); gradient softmax(x) * sum(t) - t. The softmax is NaN for the
      // whole row when the row holds a NaN (or its sum is NaN: +Inf, or only -Inf), and the
      // row's loss is NaN then.
      float mx = -__int_as_float(0x7f800000);
      bool nan = false;
      for (int64_t c = ln; c < cols; c += kWarpSize) {
        nan = nan || std::isnan(x[c]);
        mx = mx < x[c] ? x[c] : mx;
      }
      mx = warp_max(mx);
      nan = warp_any(nan);
      float sum = 0.0f, tsum = 0.0f;
      double lse = 0.0;
      for (int64_t c = ln; c < cols; c += kWarpSize) {
        sum += std::exp(x[c] - mx);
        lse += std::exp(static_cast<double>(x[c] - mx));
        tsum += t[c];
      }
      sum = warp_sum(sum);
      lse = warp_sum(lse);
      tsum = warp_sum(tsum);
      lse = std::log(lse) + mx;
      const float inv = 1.0f / sum;
      double part = 0.0;
      for (int64_t c = ln; c < cols; c += kWarpSize) {
        part += t[c] * (x[c] - lse);
        if (gr) {
          const float soft = nan ? nan_f() : std::exp(x[c] - mx) * inv;
          gr[c] = grad_scale * (soft * tsum - t[c]);
        }
      }
      part = warp_sum(part);
      row_loss = nan || std::isnan(sum) ? static_cast<double>(nan_f()) : -part;
    } else {
      // Keras: p = clip(x / sum(x), eps, 1 - eps); loss = -sum t log p.
      float s = 0.0f;
      for (int64_t c = ln; c < cols; c += kWarpSize) s += x[c];
      s = warp_sum(s);
      float dot = 0.0f;  // sum_i g_i q_i for the normalisation's gradient
      double part = 0.0;
      for (int64_t c = ln; c < cols; c += kWarpSize) {
        const float q = x[c] / s;
        const float p = clip_probability(q);
        part += t[c] * std::log(p);
        dot += crossentropy_dq(q, p, t[c]) * q;
      }
      dot = warp_sum(dot);
      part = warp_sum(part);
      if (gr)
        for (int64_t c = ln; c < cols; c += kWarpSize) {
          const float q = x[c] / s;
          const float dq = crossentropy_dq(q, clip_probability(q), t[c]);
          gr[c] = grad_scale * (dq - dot) / s;
        }
      row_loss = -part;
    }
    if (ln == 0) acc += row_loss;
  }
  reduce_grid(acc, kNoIndex, [=](double total, long long) { *loss_sum += total; });
}

// Sparse categorical crossentropy, one warp per row. A label outside [0, cols) flags its row
// (no gradient written for it); when any row is flagged, the smallest one is recorded as the
// BadLabel error and nothing is added for the batch (the CPU checks every label first).
__global__ void sparse_crossentropy_kernel(const float* pred, const int64_t* labels, int64_t rows,
                                           int64_t cols, bool from_logits, double* loss_sum,
                                           float* grad, float grad_scale, StepState* state,
                                           int32_t output) {
  const int ln = lane();
  double acc = 0.0;
  long long first_bad = kNoIndex;
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    const int64_t label = labels[r];
    if (label < 0 || label >= cols) {
      first_bad = first_bad < r ? first_bad : static_cast<long long>(r);
      continue;
    }
    const float* x = pred + r * cols;
    float* gr = grad ? grad + r * cols : nullptr;
    double row_loss;
    if (from_logits) {
      float mx = -__int_as_float(0x7f800000);
      bool nan = false;
      for (int64_t c = ln; c < cols; c += kWarpSize) {
        mx = mx < x[c] ? x[c] : mx;
        nan = nan || std::isnan(x[c]);
      }
      mx = warp_max(mx);
      if (warp_any(nan)) mx = nan_f();
      float sum = 0.0f;
      for (int64_t c = ln; c < cols; c += kWarpSize) sum += std::exp(x[c] - mx);
      sum = warp_sum(sum);
      if (gr) {
        const float inv = grad_scale / sum;
        for (int64_t c = ln; c < cols; c += kWarpSize) {
          const float e = std::exp(x[c] - mx) * inv;
          gr[c] = c == label ? e - grad_scale : e;
        }
      }
      row_loss = std::log(static_cast<double>(sum)) + mx - x[label];
    } else {
      float s = 0.0f;
      for (int64_t c = ln; c < cols; c += kWarpSize) s += x[c];
      s = warp_sum(s);
      const float q = x[label] / s;
      const float p = clip_probability(q);
      row_loss = -static_cast<double>(std::log(p));
      if (gr) {
        const float gq = crossentropy_dq(q, p, 1.0f);  // dL/dq_label
        // dq_label/dx_c = (delta_{c,label} - q) / s
        for (int64_t c = ln; c < cols; c += kWarpSize) {
          const float other = grad_scale * gq * (-q) / s;
          gr[c] = c == label ? other + grad_scale * gq / s : other;
        }
      }
    }
    if (ln == 0) acc += row_loss;
  }
  reduce_grid(acc, first_bad, [=](double total, long long bad) {
    if (bad != kNoIndex) {
      record_step_error_atomic(state, StepError::BadLabel, output, 0, bad,
                               static_cast<double>(labels[bad]));
      return;
    }
    *loss_sum += total;
  });
}

void launch_element_loss(cudaStream_t stream, ElementLoss kind, const float* pred,
                         const float* target, int64_t rows, int64_t cols, float delta,
                         bool from_logits, double* loss_sum, float* grad, float g) {
  const int64_t n = rows * cols;
  element_loss_kernel<<<blocks_for(n), kThreads, 0, stream>>>(kind, pred, target, n, cols, delta,
                                                              from_logits, loss_sum, grad, g);
  FF_CUDA_LAUNCH_CHECK("element_loss_kernel");
}

}  // namespace

void CudaBackend::loss_mse(const float* pred, const float* target, int64_t rows, int64_t cols,
                           double* loss_sum, float* grad, float grad_scale) {
  const float g = 2.0f * grad_scale / static_cast<float>(cols);
  launch_element_loss(stream(), ElementLoss::Mse, pred, target, rows, cols, 0.0f, false, loss_sum,
                      grad, g);
}

void CudaBackend::loss_mae(const float* pred, const float* target, int64_t rows, int64_t cols,
                           double* loss_sum, float* grad, float grad_scale) {
  const float g = grad_scale / static_cast<float>(cols);
  launch_element_loss(stream(), ElementLoss::Mae, pred, target, rows, cols, 0.0f, false, loss_sum,
                      grad, g);
}

void CudaBackend::loss_huber(const float* pred, const float* target, int64_t rows, int64_t cols,
                             float delta, double* loss_sum, float* grad, float grad_scale) {
  const float g = grad_scale / static_cast<float>(cols);
  launch_element_loss(stream(), ElementLoss::Huber, pred, target, rows, cols, delta, false,
                      loss_sum, grad, g);
}

void CudaBackend::loss_binary_crossentropy(const float* pred, const float* target, int64_t rows,
                                           int64_t cols, bool from_logits, double* loss_sum,
                                           float* grad, float grad_scale) {
  const float g = grad_scale / static_cast<float>(cols);
  launch_element_loss(stream(), ElementLoss::BinaryCrossentropy, pred, target, rows, cols, 0.0f,
                      from_logits, loss_sum, grad, g);
}

void CudaBackend::loss_categorical_crossentropy(const float* pred, const float* target,
                                                int64_t rows, int64_t cols, bool from_logits,
                                                double* loss_sum, float* grad, float grad_scale) {
  categorical_crossentropy_kernel<<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
      pred, target, rows, cols, from_logits, loss_sum, grad, grad_scale);
  FF_CUDA_LAUNCH_CHECK("categorical_crossentropy_kernel");
}

void CudaBackend::loss_sparse_categorical_crossentropy(const float* pred, const int64_t* labels,
                                                       int64_t rows, int64_t cols,
                                                       bool from_logits, double* loss_sum,
                                                       float* grad, float grad_scale,
                                                       StepState* state, int32_t output) {
  sparse_crossentropy_kernel<<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
      pred, labels, rows, cols, from_logits, loss_sum, grad, grad_scale, state, output);
  FF_CUDA_LAUNCH_CHECK("sparse_crossentropy_kernel");
}

}  // namespace ff::cuda
