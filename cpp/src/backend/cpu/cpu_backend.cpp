// The CPU backend: host memory; GEMM through oneDNN's sgemm where the build found oneDNN
// (measured 1.4-3x faster than OpenBLAS on this project's shapes: benchmarks/RESULTS.md), else
// OpenBLAS's CBLAS, in shape-fixed tiles (gemm.cpp); xtensor views and plain loops for the elementwise and reduction kernels,
// split over OpenMP threads when large. NaN and Inf propagate exactly as IEEE arithmetic says
// (ReLU of NaN is NaN): check-numerics must see them, never a silently cleaned value. Results
// never depend on the thread count: elementwise work is partition-independent and reductions
// sum fixed-size chunks in a fixed order.
#include <omp.h>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include "backend/activation_rules.h"
#include "backend/backend.h"
#include "backend/loss_rules.h"
#include "backend/cpu/conv.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/half_by_float32.h"
#include "backend/cpu/pooling.h"
#include "backend/cpu/image.h"
#include "backend/cpu/layer_kernels.h"
#include "backend/cpu/matmul_bf16.h"
#include "backend/cpu/normalization.h"
#include "backend/cpu/ops.h"
#include "backend/optimizer_rules.h"
#include "core/errors.h"
#include "core/half.h"
#include "backend/cpu/parallel.h"
#include "core/rng.h"

namespace ff {
namespace {

using cpu::for_each_chunk;
using cpu::kParallelMin;
using cpu::kReduceChunk;
using cpu::parallel_for;
using cpu::parallel_rows;

// A 1-D xtensor view over n floats (no copy, no ownership).
inline auto vec(float* x, int64_t n) {
  return xt::adapt(x, static_cast<size_t>(n), xt::no_ownership(),
                   std::array<size_t, 1>{static_cast<size_t>(n)});
}
inline auto vec(const float* x, int64_t n) {
  return xt::adapt(const_cast<float*>(x), static_cast<size_t>(n), xt::no_ownership(),
                   std::array<size_t, 1>{static_cast<size_t>(n)});
}

// The per-element rules (activations, losses, metrics) are shared with the CUDA backend:
// backend/activation_rules.h and backend/loss_rules.h.

// Row-wise softmax, max-subtracted. A NaN anywhere in the row makes the whole row NaN.
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mx = -std::numeric_limits<float>::infinity();
    bool nan = false;
    for (int64_t c = 0; c < cols; ++c) {
      if (std::isnan(xr[c])) nan = true;
      mx = std::max(mx, xr[c]);
    }
    if (nan) {
      std::fill(yr, yr + cols, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    float sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      yr[c] = std::exp(xr[c] - mx);
      sum += yr[c];
    }
    float inv = 1.0f / sum;
    for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

// Range kernels of the hot loops, on __restrict pointers so that they vectorise (a lambda that
// captures pointers by reference makes the compiler reload them after every store). The
// optimizer loops apply the per-element rules of backend/optimizer_rules.h, which the CUDA
// kernels share.
void relu_backward_range(const float* __restrict y, const float* __restrict dy,
                         float* __restrict dx, int64_t b, int64_t e) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void bias_relu_row(float* __restrict y, const float* __restrict bias, int64_t cols) {
#pragma omp simd
  for (int64_t c = 0; c < cols; ++c) {
    float v = y[c] + bias[c];
    y[c] = v < 0.0f ? 0.0f : v;  // NaN < 0 is false: NaN propagates
  }
}

void adam_range(float* __restrict p, const float* __restrict g, float* __restrict m,
                float* __restrict v, float* __restrict vhat, int64_t b, int64_t e, float alpha,
                float one_minus_b1, float one_minus_b2, float epsilon) {
  if (vhat) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i)
      amsgrad_element(p, g, m, v, vhat, i, alpha, one_minus_b1, one_minus_b2, epsilon);
    return;
  }
#pragma omp simd
  for (int64_t i = b; i < e; ++i)
    adam_element(p, g, m, v, i, alpha, one_minus_b1, one_minus_b2, epsilon);
}

void sgd_range(float* __restrict p, const float* __restrict g, float* __restrict m, int64_t b,
               int64_t e, float lr, float momentum, bool nesterov) {
  if (!m) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) sgd_element(p, g, i, lr);
    return;
  }
#pragma omp simd
  for (int64_t i = b; i < e; ++i) sgd_momentum_element(p, g, m, i, lr, momentum, nesterov);
}

void rmsprop_range(float* __restrict p, const float* __restrict g, float* __restrict v,
                   float* __restrict mg, float* __restrict mom, int64_t b, int64_t e, float lr,
                   float rho, float momentum, float epsilon) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) rmsprop_element(p, g, v, mg, mom, i, lr, rho, momentum, epsilon);
}

void adagrad_range(float* __restrict p, const float* __restrict g, float* __restrict acc,
                   int64_t b, int64_t e, float lr, float epsilon) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) adagrad_element(p, g, acc, i, lr, epsilon);
}

// True when some element is NaN or +-Inf: finite_residue (x - x) is 0 for finite x and NaN
// otherwise, one sum per chunk finds any of them.
bool any_nonfinite(const float* x, int64_t n) {
  std::vector<char> found(static_cast<size_t>((n + kReduceChunk - 1) / kReduceChunk), 0);
  for_each_chunk(n, [&](int64_t c, int64_t b, int64_t e) {
    float acc = 0.0f;
    for (int64_t i = b; i < e; ++i) acc += finite_residue(x[i]);
    found[c] = acc != 0.0f;
  });
  return std::any_of(found.begin(), found.end(), [](char f) { return f != 0; });
}

// Sum of squares in double, fixed-size chunks added in order: the same for any thread count.
double sum_of_squares(const float* x, int64_t n) {
  std::vector<double> partial(static_cast<size_t>((n + kReduceChunk - 1) / kReduceChunk), 0.0);
  for_each_chunk(n, [&](int64_t c, int64_t b, int64_t e) {
    double acc = 0.0;
    for (int64_t i = b; i < e; ++i) acc += static_cast<double>(x[i]) * x[i];
    partial[c] = acc;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// The sum of p(x[i]) (backend/penalty_rules.h) in double, fixed-size chunks added in order.
double penalty_sum(const float* x, int64_t n, const PenaltySpec& spec) {
  std::vector<double> partial(static_cast<size_t>((n + kReduceChunk - 1) / kReduceChunk), 0.0);
  for_each_chunk(n, [&](int64_t c, int64_t b, int64_t e) {
    double acc = 0.0;
    for (int64_t i = b; i < e; ++i) acc += penalty_value(x[i], spec);
    partial[c] = acc;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// The 16-bit storage functions come from HalfByFloat32 (decode, float32 kernel, encode).
class CpuBackend final : public cpu::HalfByFloat32<Backend> {
 public:
  CpuBackend() : HalfByFloat32(cpu_device()) {}
  std::string name() const override { return "cpu"; }

  void fill(float* x, int64_t n, float value) override { std::fill(x, x + n, value); }

  void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
            const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
            int64_t ldc) override {
    cpu::gemm_f32(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  void bias_activation(float* y, const float* bias, int64_t rows, int64_t cols, Activation act,
                       float alpha, float* preact) override {
    if (act == Activation::Softmax) {
      if (bias) add_bias(y, bias, rows, cols);
      if (preact) std::memcpy(preact, y, sizeof(float) * rows * cols);
      softmax_rows(y, y, rows, cols);
      return;
    }
    parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        float* yr = y + r * cols;
        float* pr = preact ? preact + r * cols : nullptr;
        if (act == Activation::Relu && !pr) {  // the hot case, kept branch-free for the vectoriser
          if (bias) {
            bias_relu_row(yr, bias, cols);
          } else {
            for (int64_t c = 0; c < cols; ++c) yr[c] = yr[c] < 0.0f ? 0.0f : yr[c];
          }
          continue;
        }
        for (int64_t c = 0; c < cols; ++c) {
          float v = bias ? yr[c] + bias[c] : yr[c];
          if (pr) pr[c] = v;
          yr[c] = activate_rule(act, alpha, v);
        }
      }
    });
  }

  void activation_forward(Activation act, float alpha, const float* x, float* y, int64_t rows,
                          int64_t cols) override {
    if (act == Activation::Softmax) {
      softmax_rows(x, y, rows, cols);
      return;
    }
    parallel_for(rows * cols, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = activate_rule(act, alpha, x[i]);
    });
  }

  void activation_backward(Activation act, float alpha, const float* x, const float* y,
                           const float* dy, float* dx, int64_t rows, int64_t cols) override {
    const int64_t n = rows * cols;
    switch (act) {
      case Activation::Linear:
        if (dx != dy) std::memcpy(dx, dy, sizeof(float) * n);
        return;
      // Relu, Sigmoid and Tanh: activation_grad_rule's expressions, in vectorisable loops.
      case Activation::Relu:
        parallel_for(n, [&](int64_t b, int64_t e) { relu_backward_range(y, dy, dx, b, e); });
        return;
      case Activation::Sigmoid:
        vec(dx, n) = vec(dy, n) * vec(y, n) * (1.0f - vec(y, n));
        return;
      case Activation::Tanh:
        vec(dx, n) = vec(dy, n) * (1.0f - vec(y, n) * vec(y, n));
        return;
      // The rest: one loop each, the activation a constant so that the rule's switch folds away.
      case Activation::LeakyRelu:
        for (int64_t i = 0; i < n; ++i)
          dx[i] = activation_grad_rule(Activation::LeakyRelu, alpha, 0.0f, y[i], dy[i]);
        return;
      case Activation::Elu:
        for (int64_t i = 0; i < n; ++i)
          dx[i] = activation_grad_rule(Activation::Elu, alpha, 0.0f, y[i], dy[i]);
        return;
      case Activation::Gelu:
        for (int64_t i = 0; i < n; ++i)
          dx[i] = activation_grad_rule(Activation::Gelu, alpha, x[i], 0.0f, dy[i]);
        return;
      case Activation::Swish:
        for (int64_t i = 0; i < n; ++i)
          dx[i] = activation_grad_rule(Activation::Swish, alpha, x[i], 0.0f, dy[i]);
        return;
      case Activation::Softmax:
        // dx = y * (dy - sum(dy * y)) per row
        for (int64_t r = 0; r < rows; ++r) {
          const float* yr = y + r * cols;
          const float* dyr = dy + r * cols;
          float dot = 0.0f;
          for (int64_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
          for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] = yr[c] * (dyr[c] - dot);
        }
        return;
    }
  }

  void column_sum(const float* x, int64_t rows, int64_t cols, float* out) override {
    // Threads split the columns; each column is summed over rows in order (deterministic).
    // Sums build up in a thread-local buffer: `out` is usually a gradient view at an arbitrary
    // offset, and writing it every row made two threads fight over a shared cache line.
    auto sum_columns = [&](int64_t c0, int64_t c1) {
      std::vector<float> acc(static_cast<size_t>(c1 - c0), 0.0f);
      float* __restrict a = acc.data();
      for (int64_t r = 0; r < rows; ++r) {
        const float* __restrict xr = x + r * cols + c0;
#pragma omp simd
        for (int64_t c = 0; c < c1 - c0; ++c) a[c] += xr[c];
      }
      std::copy(acc.begin(), acc.end(), out + c0);
    };
    parallel_for(cols, sum_columns, rows * cols);
  }

  void dropout(const float* x, float* y, int64_t n, float rate, uint64_t seed,
               const StepState* state) override {
    const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
    const float keep_scale = 1.0f / (1.0f - rate);
    for (int64_t base = 0; base < n; base += 4) {
      auto bits = Philox::block(seed, stream, static_cast<uint64_t>(base / 4));
      for (int64_t j = 0; j < 4 && base + j < n; ++j)
        y[base + j] = Philox::to_unit(bits[j]) >= rate ? x[base + j] * keep_scale : 0.0f;
    }
  }

  void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) override {
    if (!cpu::matmul_bf16(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc))
      cpu::matmul_bf16_in_float32(*this, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
  }
  void round_to_precision(float* dst, const float* src, int64_t n, DType dtype) override {
    if (dtype == DType::BFloat16)
      parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) dst[i] = round_to_bfloat16(src[i]);
      });
    else if (dtype == DType::Float16)
      parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) dst[i] = round_to_float16(src[i]);
      });
    else
      throw ValueError("round_to_precision: " + dtype_name(dtype) + " is not a 16-bit float type");
  }
  void scale(float* x, int64_t n, float factor) override {
    parallel_for(n, [&](int64_t b, int64_t e) { vec(x + b, e - b) *= factor; });
  }
  void add(float* y, const float* x, int64_t n) override {
    parallel_for(n, [&](int64_t b, int64_t e) { vec(y + b, e - b) += vec(x + b, e - b); });
  }
  void multiply(float* y, const float* x, int64_t n) override {
    parallel_for(n, [&](int64_t b, int64_t e) { vec(y + b, e - b) *= vec(x + b, e - b); });
  }
  void copy_2d(float* dst, int64_t dst_ld, const float* src, int64_t src_ld, int64_t rows,
               int64_t cols) override {
    parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        std::memcpy(dst + r * dst_ld, src + r * src_ld, sizeof(float) * cols);
    });
  }
  void gather_rows(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
                   const int64_t* indices, int64_t count) override {
    char* d = static_cast<char*>(dst);
    const char* s = static_cast<const char*>(src);
    const size_t bytes = static_cast<size_t>(row_bytes);
    parallel_rows(count, row_bytes / 4 + 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = indices[r];
        if (i >= 0 && i < src_rows) std::memcpy(d + r * row_bytes, s + i * row_bytes, bytes);
        else std::memset(d + r * row_bytes, 0, bytes);
      }
    });
  }
  void clip(float* x, int64_t n, float lo, float hi) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      auto v = vec(x + b, e - b);
      v = xt::clip(v, lo, hi);
    });
  }
  void clip_by_norm(float* x, int64_t n, float max_norm) override {
    float factor;
    if (norm_clip_factor(sum_of_squares(x, n), max_norm, &factor)) scale(x, n, factor);
  }
  void penalty(const float* x, int64_t n, const PenaltySpec& spec, double* sum,
               double sum_scale, float* grad, bool accumulate, const StepState* state) override {
    if (n <= 0) return;
    if (sum) *sum += sum_scale * penalty_sum(x, n, spec);
    if (!grad) return;
    const float scale = state->loss_scale;
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float g = scale * penalty_grad(x[i], spec);
        grad[i] = accumulate ? grad[i] + g : g;
      }
    });
  }
  void random_values(RandomKind kind, float a, float b, uint64_t seed, const float* x, float* y,
                     int64_t n, const StepState* state, bool training) override {
    const uint64_t stream = random_stream(state, training);
    parallel_for(n, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i)
        y[i] = random_value(kind, a, b, seed, stream, static_cast<uint64_t>(i), x ? x[i] : 0.0f);
    });
  }
  void add_sum_squares(const float* x, int64_t n, StepState* state) override {
    state->norm_squares += sum_of_squares(x, n);
  }
  void clip_by_global_norm(float* x, int64_t n, float max_norm, const StepState* state) override {
    float factor;
    if (norm_clip_factor(state->norm_squares, max_norm, &factor)) scale(x, n, factor);
  }

  // ---- the step-state block ----
  void step_begin(StepState* state, bool training) override { state_step_begin(state, training); }
  void step_end(StepState* state, bool training, double count) override {
    state_step_end(state, training, count);
  }
  void prepare_update(StepState* state, const ScheduleSpec& schedule, float beta1,
                      float beta2) override {
    state_prepare_update(state, schedule, beta1, beta2);
  }
  void finish_update(StepState* state) override { state_finish_update(state); }
  void loss_scale_update(StepState* state, int64_t growth_steps) override {
    state_loss_scale_update(state, growth_steps);
  }
  void check_finite(const float* x, int64_t n, StepState* state) override {
    if (state->grads_finite && any_nonfinite(x, n)) state->grads_finite = 0;
  }
  void apply_loss_scale(float* x, int64_t n, const StepState* state, bool unscale) override {
    float factor;
    if (loss_scale_factor(state, unscale, &factor)) scale(x, n, factor);
  }
  void check_numerics(const float* x, int64_t n, StepState* state, int32_t node,
                      StepPass pass) override {
    if (!state->halted && any_nonfinite(x, n)) state_nonfinite(state, node, pass);
  }
  void check_numerics_sums(StepState* state, int32_t first, int32_t count,
                           int32_t output) override {
    const double* partial = step_sums(state, state->num_sums);
    for (int32_t i = first; i < first + count; ++i)
      if (!std::isfinite(partial[i])) {
        state_nonfinite(state, output, StepPass::Loss);
        return;
      }
  }

  // ---- losses ----
  void loss_mse(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override {
    double total = 0.0;
    const float g = 2.0f * grad_scale / static_cast<float>(cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      float d = pred[i] - target[i];
      total += mse_term(d);
      if (grad) grad[i] = g * d;
    }
    *loss_sum += total / static_cast<double>(cols);
  }

  void loss_mae(const float* pred, const float* target, int64_t rows, int64_t cols,
                double* loss_sum, float* grad, float grad_scale) override {
    double total = 0.0;
    const float g = grad_scale / static_cast<float>(cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      float d = pred[i] - target[i];
      total += std::fabs(d);
      if (grad) grad[i] = mae_grad(d, g);
    }
    *loss_sum += total / static_cast<double>(cols);
  }

  void loss_huber(const float* pred, const float* target, int64_t rows, int64_t cols, float delta,
                  double* loss_sum, float* grad, float grad_scale) override {
    double total = 0.0;
    const float g = grad_scale / static_cast<float>(cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      float d = pred[i] - target[i];
      total += huber_term(d, delta);
      if (grad) grad[i] = huber_grad(d, delta, g);
    }
    *loss_sum += total / static_cast<double>(cols);
  }

  void loss_binary_crossentropy(const float* pred, const float* target, int64_t rows, int64_t cols,
                                bool from_logits, double* loss_sum, float* grad,
                                float grad_scale) override {
    double total = 0.0;
    const float g = grad_scale / static_cast<float>(cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float x = pred[i], t = target[i];
      total += bce_term(x, t, from_logits);
      if (grad) grad[i] = bce_grad(x, t, from_logits, g);
    }
    *loss_sum += total / static_cast<double>(cols);
  }

  void loss_categorical_crossentropy(const float* pred, const float* target, int64_t rows,
                                     int64_t cols, bool from_logits, double* loss_sum, float* grad,
                                     float grad_scale) override {
    double total = 0.0;
    std::vector<float> tmp(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = pred + r * cols;
      const float* t = target + r * cols;
      float* gr = grad ? grad + r * cols : nullptr;
      if (from_logits) {
        // -sum t * log_softmax(x); gradient softmax(x) * sum(t) - t
        softmax_rows(x, tmp.data(), 1, cols);
        float mx = *std::max_element(x, x + cols);
        double lse = 0.0;
        for (int64_t c = 0; c < cols; ++c) lse += std::exp(static_cast<double>(x[c] - mx));
        lse = std::log(lse) + mx;
        float tsum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) {
          total -= t[c] * (x[c] - lse);
          tsum += t[c];
        }
        if (std::isnan(tmp[0])) total = std::numeric_limits<double>::quiet_NaN();
        if (gr)
          for (int64_t c = 0; c < cols; ++c) gr[c] = grad_scale * (tmp[c] * tsum - t[c]);
      } else {
        // Keras: p = clip(x / sum(x), eps, 1 - eps); loss = -sum t log p
        float s = 0.0f;
        for (int64_t c = 0; c < cols; ++c) s += x[c];
        float dot = 0.0f;  // sum_i g_i q_i for the normalisation's gradient
        for (int64_t c = 0; c < cols; ++c) {
          float q = x[c] / s;
          float p = clip_probability(q);
          total -= t[c] * std::log(p);
          tmp[c] = crossentropy_dq(q, p, t[c]);  // dL/dq
          dot += tmp[c] * q;
        }
        if (gr)
          for (int64_t c = 0; c < cols; ++c) gr[c] = grad_scale * (tmp[c] - dot) / s;
      }
    }
    *loss_sum += total;
  }

  void loss_sparse_categorical_crossentropy(const float* pred, const int64_t* labels,
                                            int64_t rows, int64_t cols, bool from_logits,
                                            double* loss_sum, float* grad, float grad_scale,
                                            StepState* state, int32_t output) override {
    for (int64_t r = 0; r < rows; ++r)
      if (labels[r] < 0 || labels[r] >= cols) {
        record_step_error(state, StepError::BadLabel, output, 0, r,
                          static_cast<double>(labels[r]));
        return;
      }
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = pred + r * cols;
      float* gr = grad ? grad + r * cols : nullptr;
      const int64_t label = labels[r];
      if (from_logits) {
        float mx = -std::numeric_limits<float>::infinity();
        bool nan = false;
        for (int64_t c = 0; c < cols; ++c) {
          mx = std::max(mx, x[c]);
          nan |= std::isnan(x[c]);
        }
        if (nan) mx = std::numeric_limits<float>::quiet_NaN();
        float sum = 0.0f;
        if (gr) {
          for (int64_t c = 0; c < cols; ++c) {
            gr[c] = std::exp(x[c] - mx);
            sum += gr[c];
          }
          const float inv = grad_scale / sum;
          for (int64_t c = 0; c < cols; ++c) gr[c] *= inv;
          gr[label] -= grad_scale;
        } else {
          for (int64_t c = 0; c < cols; ++c) sum += std::exp(x[c] - mx);
        }
        total += std::log(static_cast<double>(sum)) + mx - x[label];
      } else {
        float s = 0.0f;
        for (int64_t c = 0; c < cols; ++c) s += x[c];
        const float q = x[label] / s;
        const float p = clip_probability(q);
        total -= std::log(p);
        if (gr) {
          const float gq = crossentropy_dq(q, p, 1.0f);  // dL/dq_label
          // dq_label/dx_c = (delta_{c,label} - q) / s
          for (int64_t c = 0; c < cols; ++c) gr[c] = grad_scale * gq * (-q) / s;
          gr[label] += grad_scale * gq / s;
        }
      }
    }
    *loss_sum += total;
  }

  // ---- metrics ----
  void metric_binary_accuracy(const float* pred, const float* target, int64_t rows, int64_t cols,
                              float threshold, double* sum) override {
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t hits = 0;
      for (int64_t c = 0; c < cols; ++c) {
        hits += binary_hit(pred[r * cols + c], target[r * cols + c], threshold);
      }
      total += static_cast<double>(hits) / cols;
    }
    *sum += total;
  }
  void metric_categorical_accuracy(const float* pred, const float* target, int64_t rows,
                                   int64_t cols, double* sum) override {
    int64_t hits = 0;
    for (int64_t r = 0; r < rows; ++r)
      hits += argmax(pred + r * cols, cols) == argmax(target + r * cols, cols);
    *sum += static_cast<double>(hits);
  }
  void metric_sparse_categorical_accuracy(const float* pred, const int64_t* labels, int64_t rows,
                                          int64_t cols, double* sum) override {
    int64_t hits = 0;
    for (int64_t r = 0; r < rows; ++r) hits += argmax(pred + r * cols, cols) == labels[r];
    *sum += static_cast<double>(hits);
  }
  void metric_mean_error(const float* pred, const float* target, int64_t rows, int64_t cols,
                         int power, double* sum) override {
    double total = 0.0;
    for (int64_t i = 0; i < rows * cols; ++i) {
      total += mean_error_term(pred[i], target[i], power);
    }
    *sum += total / static_cast<double>(cols);
  }

  // ---- optimizers ----
  void sgd_update(float* p, const float* g, float* m, int64_t n, float momentum, bool nesterov,
                  const StepState* state) override {
    if (!state->apply_update) return;
    const float lr = state->learning_rate;
    parallel_for(n, [&](int64_t b, int64_t e) { sgd_range(p, g, m, b, e, lr, momentum, nesterov); });
  }
  void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                   float beta1, float beta2, float epsilon, const StepState* state) override {
    if (!state->apply_update) return;
    const float alpha = adam_step_size(state);
    parallel_for(n, [&](int64_t b, int64_t e) {
      adam_range(p, g, m, v, vhat, b, e, alpha, 1.0f - beta1, 1.0f - beta2, epsilon);
    });
  }
  void rmsprop_update(float* p, const float* g, float* v, float* mg, float* mom, int64_t n,
                      float rho, float momentum, float epsilon, const StepState* state) override {
    if (!state->apply_update) return;
    const float lr = state->learning_rate;
    parallel_for(n, [&](int64_t b, int64_t e) {
      rmsprop_range(p, g, v, mg, mom, b, e, lr, rho, momentum, epsilon);
    });
  }
  void adagrad_update(float* p, const float* g, float* acc, int64_t n, float epsilon,
                      const StepState* state) override {
    if (!state->apply_update) return;
    const float lr = state->learning_rate;
    parallel_for(n, [&](int64_t b, int64_t e) { adagrad_range(p, g, acc, b, e, lr, epsilon); });
  }
  void decay_weights(float* p, int64_t n, float weight_decay, const StepState* state) override {
    if (!state->apply_update) return;
    scale(p, n, weight_decay_factor(weight_decay, state->learning_rate));
  }

  // ---- convolution, pooling, padding (cpu/conv.cpp, cpu/pooling.cpp) ----
  void conv2d_forward(const Conv2DGeometry& g, const float* x, const float* k, float* y) override { cpu::conv2d_forward(*this, g, x, k, y); }
  void conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* k, float* dx) override { cpu::conv2d_backward_data(*this, g, dy, k, dx); }
  void conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy, float* dk, float* db) override { cpu::conv2d_backward_filter(*this, g, x, dy, dk, db); }
  void max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) override { cpu::max_pool2d_forward(g, x, y); }
  void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy, float* dx) override { cpu::max_pool2d_backward(g, x, dy, dx); }
  void avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) override { cpu::avg_pool2d_forward(g, x, y); }
  void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) override { cpu::avg_pool2d_backward(g, dy, dx); }
  void zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y) override { cpu::zero_pad2d_forward(g, x, y); }
  void zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx) override { cpu::zero_pad2d_backward(g, dy, dx); }

  // ---- normalization and image preprocessing (cpu/normalization.cpp, cpu/image.cpp) ----
  void batch_norm_forward_training(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta, float epsilon, float momentum, float* moving_mean, float* moving_var, float* saved_mean, float* saved_inv_std, const StepState* state) override {
    const bool update = !state || !state->halted;
    cpu::batch_norm_forward_training(x, y, rows, channels, gamma, beta, epsilon, momentum, update ? moving_mean : nullptr, update ? moving_var : nullptr, saved_mean, saved_inv_std);
  }
  void batch_norm_forward_inference(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta, const float* moving_mean, const float* moving_var, float epsilon, float* saved_mean, float* saved_inv_std) override { cpu::batch_norm_forward_inference(x, y, rows, channels, gamma, beta, moving_mean, moving_var, epsilon, saved_mean, saved_inv_std); }
  void batch_norm_backward(const float* x, const float* dy, int64_t rows, int64_t channels, const float* gamma, const float* saved_mean, const float* saved_inv_std, bool batch_stats, float* dx, float* dgamma, float* dbeta) override { cpu::batch_norm_backward(x, dy, rows, channels, gamma, saved_mean, saved_inv_std, batch_stats, dx, dgamma, dbeta); }
  void scale_shift(const float* x, float* y, int64_t n, float scale, float offset) override { cpu::scale_shift(x, y, n, scale, offset); }
  void normalize(const float* x, float* y, int64_t rows, int64_t channels, const float* mean, const float* variance, bool invert) override { cpu::normalize(x, y, rows, channels, mean, variance, invert); }
  void affine_transform_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c, const float* transforms, Interpolation interpolation, FillMode fill_mode, float fill_value) override { cpu::affine_transform_images(x, y, n, h, w, c, transforms, interpolation, fill_mode, fill_value); }
  void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h, int64_t w, int64_t c, const float* transforms, Interpolation interpolation, FillMode fill_mode) override { cpu::affine_transform_images_backward(dy, dx, n, h, w, c, transforms, interpolation, fill_mode); }
  void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c, const float* flips) override { cpu::flip_images(x, y, n, h, w, c, flips); }
  void random_flips(const FlipSpec& spec, int64_t n, float* flags,
                    const StepState* state) override {
    const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
    for (int64_t i = 0; i < n; ++i) flip_flags(spec, stream, i, flags + 2 * i);
  }
  void random_affine_matrices(const AffineSpec& spec, int64_t n, int64_t h, int64_t w,
                              float* matrices, const StepState* state) override {
    const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
    for (int64_t i = 0; i < n; ++i) affine_matrix(spec, stream, i, h, w, matrices + 6 * i);
  }
  void category_encode(const float* x, int64_t numel, int64_t last, int64_t num_tokens,
                       CategoryMode mode, bool skip_negative, float* y, StepState* state,
                       int32_t node) override {
    const int64_t bad = encode_category_values(x, numel, last, num_tokens, mode, skip_negative, y);
    if (bad >= 0)
      record_step_error(state, StepError::BadCategory, node, 0, bad, static_cast<double>(x[bad]));
  }

  // ---- ReLU, PReLU, UpSampling2D, LayerNormalization, depthwise (cpu/layer_kernels.cpp) ----
  void relu_forward(const float* x, float* y, int64_t n, float max_value, float negative_slope, float threshold) override { cpu::relu_forward(x, y, n, max_value, negative_slope, threshold); }
  void relu_backward(const float* x, const float* dy, float* dx, int64_t n, float max_value, float negative_slope, float threshold) override { cpu::relu_backward(x, dy, dx, n, max_value, negative_slope, threshold); }
  void prelu_forward(const PReluGeometry& g, const float* x, const float* alpha, float* y) override { cpu::prelu_forward(g, x, alpha, y); }
  void prelu_backward(const PReluGeometry& g, const float* x, const float* alpha, const float* dy, float* dx, float* dalpha) override { cpu::prelu_backward(g, x, alpha, dy, dx, dalpha); }
  void upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y) override { cpu::upsample2d_forward(g, x, y); }
  void upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx) override { cpu::upsample2d_backward(g, dy, dx); }
  void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma, const float* beta, float epsilon, float* saved_mean, float* saved_inv_std) override { cpu::layer_norm_forward(x, y, rows, cols, gamma, beta, epsilon, saved_mean, saved_inv_std); }
  void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols, const float* gamma, const float* saved_mean, const float* saved_inv_std, float* dx, float* dgamma, float* dbeta) override { cpu::layer_norm_backward(x, dy, rows, cols, gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta); }
  void depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x, const float* k, float* y) override { cpu::depthwise_conv2d_forward(g, x, k, y); }
  void depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* k, float* dx) override { cpu::depthwise_conv2d_backward_data(g, dy, k, dx); }
  void depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy, float* dk) override { cpu::depthwise_conv2d_backward_filter(g, x, dy, dk); }

  // ==== ff.ops (backend/cpu/ops.cpp) ====
  void op_unary(UnaryKind op, float p0, float p1, const float* x, float* y, int64_t n) override {
    cpu::op_unary(op, p0, p1, x, y, n);
  }
  void op_unary_backward(UnaryKind op, float p0, float p1, const float* x, const float* y,
                         const float* dy, float* dx, int64_t n) override {
    cpu::op_unary_backward(op, p0, p1, x, y, dy, dx, n);
  }
  void op_binary(BinaryKind op, const float* a, float a_scalar, const float* b, float b_scalar,
                 float* y, const BroadcastGeometry& g) override {
    cpu::op_binary(op, a, a_scalar, b, b_scalar, y, g);
  }
  void op_binary_backward(BinaryKind op, const float* a, float a_scalar, const float* b,
                          float b_scalar, const float* dy, float* da, float* db,
                          const BroadcastGeometry& g) override {
    cpu::op_binary_backward(op, a, a_scalar, b, b_scalar, dy, da, db, g);
  }
  void op_where(const float* cond, float cond_scalar, const float* x, float x_scalar,
                const float* y, float y_scalar, float* out, const BroadcastGeometry& g) override {
    cpu::op_where(cond, cond_scalar, x, x_scalar, y, y_scalar, out, g);
  }
  void op_where_backward(const float* cond, float cond_scalar, const float* dy, float* dx,
                         float* dy_out, const BroadcastGeometry& g) override {
    cpu::op_where_backward(cond, cond_scalar, dy, dx, dy_out, g);
  }
  void op_reduce(ReduceKind op, const float* x, float* y, const ReduceGeometry& g) override {
    cpu::op_reduce(op, x, y, g);
  }
  void op_reduce_backward(ReduceKind op, const float* x, const float* y, const float* dy,
                          float* dx, const ReduceGeometry& g) override {
    cpu::op_reduce_backward(op, x, y, dy, dx, g);
  }
  void op_strided_copy(const float* x, float* y, const BroadcastGeometry& g) override {
    cpu::op_strided_copy(x, y, g);
  }
  void op_take(const float* x, const float* idx, float* y, int64_t outer, int64_t size,
               int64_t n, int64_t inner, StepState* state, int32_t node) override {
    const int64_t bad = cpu::op_take(x, idx, y, outer, size, n, inner);
    if (bad >= 0)
      record_step_error(state, StepError::BadCategory, node, 0, bad, static_cast<double>(idx[bad]));
  }
  void op_take_backward(const float* idx, const float* dy, float* dx, int64_t outer,
                        int64_t size, int64_t n, int64_t inner) override {
    cpu::op_take_backward(idx, dy, dx, outer, size, n, inner);
  }
  // ==== end of ff.ops ====

 private:
  static void add_bias(float* y, const float* bias, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) y[r * cols + c] += bias[c];
  }
  // Index of the largest value in argmax_beats's order (backend/loss_rules.h): the first NaN,
  // else the first largest value.
  static int64_t argmax(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i) {
      if (std::isnan(x[best])) return best;
      if (argmax_beats(x[i], i, x[best], best)) best = i;
    }
    return best;
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace ff
