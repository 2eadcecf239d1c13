// The CUDA backend's elementwise and row kernels: fill, bias + activation, activations forward
// and backward (softmax along rows, one warp per row), column sums, dropout (the CPU's Philox
// numbers), scale, 16-bit rounding, add, multiply, 2-D copies, clipping, Rescaling,
// Normalization and CategoryEncoding. The per-element rules are the CPU's own FF_HD functions
// (backend/activation_rules.h, core/half.h, core/rng.h, backend/category_encode.h); NaN
// propagates as on the CPU (no fmaxf/fminf). Grid-stride loops over int64 indices; every kernel
// runs on the compute stream and returns at once (nothing synchronises, allocates or reads to
// the host: the step is captured as a CUDA graph).
//
// The 16-bit storage functions (cast, add_half, bias_activation_half, activation_*_half,
// column_sum_half, dropout_half) run the same kernel bodies: each kernel is templated on a
// storage policy (cuda_half_io.cuh) that decodes 16-bit inputs to float and encodes outputs
// once; the float32 instantiation reads and writes floats as before.
#include <cmath>
#include <cstdint>
#include <memory>

#include "backend/activation_rules.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_half_io.cuh"
#include "backend/cuda/cuda_kernel_util.cuh"
#include "backend/cuda/cuda_launch.cuh"
#include "core/errors.h"
#include "core/half.h"
#include "core/rng.h"

namespace ff::cuda {
namespace {

// Blocks for a grid-stride elementwise kernel over n elements.
inline unsigned int elementwise_blocks(int64_t n) { return blocks_for(n); }

__global__ void fill_kernel(float* x, int64_t n, float value) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) x[i] = value;
}

// y = act(src + bias[c]); preact (nullable) receives src + bias, except for relu (as the CPU,
// whose relu path stores no pre-activation: relu's gradient needs only y). src is read as In
// (src == y in place), y, bias and preact are Out.
template <class In, class Out>
__global__ void bias_activation_kernel(const typename In::T* src, typename Out::T* y,
                                       const typename Out::T* bias, int64_t rows, int64_t cols,
                                       Activation act, float alpha, typename Out::T* preact) {
  const int64_t n = rows * cols;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const float v = bias ? In::load(src, i) + Out::load(bias, i % cols) : In::load(src, i);
    if (preact && act != Activation::Relu) Out::store(preact, i, v);
    Out::store(y, i, activate_rule(act, alpha, v));
  }
}

template <class IO>
__global__ void activation_forward_kernel(Activation act, float alpha, const typename IO::T* x,
                                          typename IO::T* y, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    IO::store(y, i, activate_rule(act, alpha, IO::load(x, i)));
}

// x is read only for gelu and swish, y only for the others (either may be null when unused).
template <class IO>
__global__ void activation_backward_kernel(Activation act, float alpha, const typename IO::T* x,
                                           const typename IO::T* y, const typename IO::T* dy,
                                           typename IO::T* dx, int64_t n) {
  const bool from_x = act == Activation::Gelu || act == Activation::Swish;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const float xv = from_x ? IO::load(x, i) : 0.0f;
    const float yv = from_x ? 0.0f : IO::load(y, i);
    IO::store(dx, i, activation_grad_rule(act, alpha, xv, yv, IO::load(dy, i)));
  }
}

// Row-wise softmax, one warp per row, as the CPU's softmax_rows: the row's maximum subtracted, a
// NaN anywhere in the row makes the whole row NaN. The input row is x (+ bias when not null);
// preact (nullable) receives it. x may equal y: each lane reads its own columns before writing
// them. x is read as In, bias, y and preact are Out.
template <class In, class Out>
__global__ void softmax_rows_kernel(const typename In::T* x, const typename Out::T* bias,
                                    typename Out::T* y, typename Out::T* preact, int64_t rows,
                                    int64_t cols) {
  const int ln = lane();
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    const typename In::T* xr = x + r * cols;
    typename Out::T* yr = y + r * cols;
    float mx = -__int_as_float(0x7f800000);  // -Inf
    bool nan = false;
    for (int64_t c = ln; c < cols; c += kWarpSize) {
      const float v = bias ? In::load(xr, c) + Out::load(bias, c) : In::load(xr, c);
      if (preact) Out::store(preact, r * cols + c, v);
      nan = nan || std::isnan(v);
      mx = mx < v ? v : mx;  // NaN is flagged separately
    }
    mx = warp_max(mx);
    if (warp_any(nan)) {
      for (int64_t c = ln; c < cols; c += kWarpSize)
        Out::store(yr, c, __int_as_float(0x7fc00000));  // NaN
      continue;
    }
    float sum = 0.0f;
    for (int64_t c = ln; c < cols; c += kWarpSize) {
      const float v = bias ? In::load(xr, c) + Out::load(bias, c) : In::load(xr, c);
      sum += std::exp(v - mx);
    }
    sum = warp_sum(sum);
    const float inv = 1.0f / sum;
    for (int64_t c = ln; c < cols; c += kWarpSize) {
      const float v = bias ? In::load(xr, c) + Out::load(bias, c) : In::load(xr, c);
      Out::store(yr, c, std::exp(v - mx) * inv);
    }
  }
}

// dx = y * (dy - sum(dy * y)) per row, one warp per row.
template <class IO>
__global__ void softmax_backward_kernel(const typename IO::T* y, const typename IO::T* dy,
                                        typename IO::T* dx, int64_t rows, int64_t cols) {
  const int ln = lane();
  for (int64_t r = global_warp(); r < rows; r += grid_warps()) {
    const typename IO::T* yr = y + r * cols;
    const typename IO::T* dyr = dy + r * cols;
    float dot = 0.0f;
    for (int64_t c = ln; c < cols; c += kWarpSize) dot += IO::load(dyr, c) * IO::load(yr, c);
    dot = warp_sum(dot);
    for (int64_t c = ln; c < cols; c += kWarpSize)
      IO::store(dx, r * cols + c, IO::load(yr, c) * (IO::load(dyr, c) - dot));
  }
}

// out[c] = sum over rows of x[r, c], one thread per column adding the rows in order: the CPU's
// order, so the same bits as the CPU (and coalesced: neighbouring threads read neighbouring
// columns). out is float32 for every storage type of x.
template <class IO>
__global__ void column_sum_kernel(const typename IO::T* x, int64_t rows, int64_t cols,
                                  float* out) {
  for (int64_t c = global_thread(); c < cols; c += grid_threads()) {
    float acc = 0.0f;
#pragma unroll 4
    for (int64_t r = 0; r < rows; ++r) acc += IO::load(x, r * cols + c);
    out[c] = acc;
  }
}

// Inverted dropout: element i kept when Philox uniform(seed, stream, i) >= rate; one Philox block
// gives four elements, as on the CPU. The stream is read from the step-state block.
template <class IO>
__global__ void dropout_kernel(const typename IO::T* x, typename IO::T* y, int64_t n, float rate,
                               float keep_scale, uint64_t seed, const StepState* state) {
  const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = global_thread(); g < groups; g += grid_threads()) {
    const PhiloxWords bits = Philox::block(seed, stream, static_cast<uint64_t>(g));
    const int64_t base = g * 4;
    for (int64_t j = 0; j < 4 && base + j < n; ++j)
      IO::store(y, base + j,
                Philox::to_unit(bits[j]) >= rate ? IO::load(x, base + j) * keep_scale : 0.0f);
  }
}

__global__ void scale_kernel(float* x, int64_t n, float factor) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) x[i] = x[i] * factor;
}

__global__ void round_kernel(float* dst, const float* src, int64_t n, bool bfloat16) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    dst[i] = bfloat16 ? round_to_bfloat16(src[i]) : round_to_float16(src[i]);
}

template <class IO>
__global__ void add_kernel(typename IO::T* y, const typename IO::T* x, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    IO::store(y, i, IO::load(y, i) + IO::load(x, i));
}

// dst (Out) = src (In) through float32: every conversion between float32, bfloat16 and float16
// rounds once (to nearest even; NaN stays NaN, overflow gives +-Inf). dst may equal src only
// when the two types are the same.
template <class In, class Out>
__global__ void cast_kernel(typename Out::T* dst, const typename In::T* src, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    Out::store(dst, i, In::load(src, i));
}

__global__ void multiply_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = y[i] * x[i];
}

__global__ void copy_2d_kernel(float* dst, int64_t dst_ld, const float* src, int64_t src_ld,
                               int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t r = i / cols, c = i % cols;
    dst[r * dst_ld + c] = src[r * src_ld + c];
  }
}

// xtensor's clip (the CPU): v < lo ? lo : (hi < v ? hi : v); NaN is neither, so it stays NaN.
__global__ void clip_kernel(float* x, int64_t n, float lo, float hi) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const float v = x[i];
    x[i] = v < lo ? lo : (hi < v ? hi : v);
  }
}

__global__ void scale_shift_kernel(const float* x, float* y, int64_t n, float scale,
                                   float offset) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = x[i] * scale + offset;
}

// Keras's Normalization as the CPU (cpu/normalization.cpp): s = max(sqrt(variance), 1e-7) per
// channel (a NaN square root stays NaN), y = (x - mean) / s, or mean + x * s when invert.
__global__ void normalize_kernel(const float* x, float* y, int64_t rows, int64_t channels,
                                 const float* mean, const float* variance, bool invert) {
  constexpr float kEpsilon = 1e-7f;  // Keras's backend.epsilon()
  const int64_t n = rows * channels;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t c = i % channels;
    const float root = std::sqrt(variance[c]);
    const float s = root < kEpsilon ? kEpsilon : root;  // std::max(root, eps)
    const float m = mean ? mean[c] : 0.0f;
    y[i] = invert ? m + x[i] * s : (x[i] - m) / s;
  }
}

// CategoryEncoding (backend/category_encode.h's rule), one thread per output row, y zeroed
// before. A value that is not a whole number in [0, num_tokens) (unless skipped) stops its row;
// the smallest such flat index of the grid is recorded as the BadCategory error, as the CPU's
// sequential scan finds it.
__global__ void category_encode_kernel(const float* x, int64_t numel, int64_t per_row,
                                       int64_t num_tokens, CategoryMode mode, bool skip_negative,
                                       float* y, StepState* state, int32_t node) {
  const int64_t full_rows = numel / per_row;
  const int64_t row_count = (numel + per_row - 1) / per_row;  // a partial last row is checked only
  long long first_bad = kNoIndex;
  for (int64_t r = global_thread(); r < row_count; r += grid_threads()) {
    const int64_t begin = r * per_row;
    const int64_t end = begin + per_row < numel ? begin + per_row : numel;
    for (int64_t i = begin; i < end; ++i) {
      const float v = x[i];
      if (skip_negative && v < 0) continue;
      if (!(v >= 0 && v < static_cast<float>(num_tokens)) || v != std::floor(v)) {
        first_bad = first_bad < i ? first_bad : static_cast<long long>(i);
        break;
      }
      if (r >= full_rows) continue;
      float& out = y[r * num_tokens + static_cast<int64_t>(v)];
      out = mode == CategoryMode::Count ? out + 1.0f : 1.0f;
    }
  }
  reduce_grid(0.0, first_bad, [=](double, long long bad) {
    if (bad != kNoIndex)
      record_step_error_atomic(state, StepError::BadCategory, node, 0, bad,
                               static_cast<double>(x[bad]));
  });
}

}  // namespace

void CudaBackend::fill(float* x, int64_t n, float value) {
  if (n <= 0) return;
  fill_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(x, n, value);
  FF_CUDA_LAUNCH_CHECK("fill_kernel");
}

void CudaBackend::bias_activation(float* y, const float* bias, int64_t rows, int64_t cols,
                                  Activation act, float alpha, float* preact) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Activation::Softmax) {
    softmax_rows_kernel<Float32Io, Float32Io>
        <<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(y, bias, y, preact, rows,
                                                                      cols);
    FF_CUDA_LAUNCH_CHECK("softmax_rows_kernel");
    return;
  }
  bias_activation_kernel<Float32Io, Float32Io>
      <<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(y, y, bias, rows, cols, act,
                                                                   alpha, preact);
  FF_CUDA_LAUNCH_CHECK("bias_activation_kernel");
}

void CudaBackend::activation_forward(Activation act, float alpha, const float* x, float* y,
                                     int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Activation::Softmax) {
    softmax_rows_kernel<Float32Io, Float32Io>
        <<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(x, nullptr, y, nullptr,
                                                                      rows, cols);
    FF_CUDA_LAUNCH_CHECK("softmax_rows_kernel");
    return;
  }
  activation_forward_kernel<Float32Io><<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(
      act, alpha, x, y, rows * cols);
  FF_CUDA_LAUNCH_CHECK("activation_forward_kernel");
}

void CudaBackend::activation_backward(Activation act, float alpha, const float* x, const float* y,
                                      const float* dy, float* dx, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  if (rows <= 0 || cols <= 0) return;
  if (act == Activation::Linear) {
    if (dx != dy)
      FF_CUDA_CHECK(cudaMemcpyAsync(dx, dy, sizeof(float) * static_cast<size_t>(n),
                                    cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  if (act == Activation::Softmax) {
    softmax_backward_kernel<Float32Io>
        <<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(y, dy, dx, rows, cols);
    FF_CUDA_LAUNCH_CHECK("softmax_backward_kernel");
    return;
  }
  activation_backward_kernel<Float32Io><<<elementwise_blocks(n), kThreads, 0, stream()>>>(
      act, alpha, x, y, dy, dx, n);
  FF_CUDA_LAUNCH_CHECK("activation_backward_kernel");
}

void CudaBackend::column_sum(const float* x, int64_t rows, int64_t cols, float* out) {
  if (cols <= 0) return;
  column_sum_kernel<Float32Io><<<elementwise_blocks(cols), kThreads, 0, stream()>>>(x, rows, cols,
                                                                                  out);
  FF_CUDA_LAUNCH_CHECK("column_sum_kernel");
}

void CudaBackend::dropout(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                          const StepState* state) {
  if (n <= 0) return;
  const float keep_scale = 1.0f / (1.0f - rate);  // as the CPU computes it
  dropout_kernel<Float32Io><<<elementwise_blocks((n + 3) / 4), kThreads, 0, stream()>>>(
      x, y, n, rate, keep_scale, seed, state);
  FF_CUDA_LAUNCH_CHECK("dropout_kernel");
}

void CudaBackend::scale(float* x, int64_t n, float factor) {
  if (n <= 0) return;
  scale_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(x, n, factor);
  FF_CUDA_LAUNCH_CHECK("scale_kernel");
}

void CudaBackend::round_to_precision(float* dst, const float* src, int64_t n, DType dtype) {
  if (dtype != DType::BFloat16 && dtype != DType::Float16)
    throw ValueError("round_to_precision: " + dtype_name(dtype) + " is not a 16-bit float type");
  if (n <= 0) return;
  round_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(dst, src, n,
                                                                 dtype == DType::BFloat16);
  FF_CUDA_LAUNCH_CHECK("round_kernel");
}

void CudaBackend::add(float* y, const float* x, int64_t n) {
  if (n <= 0) return;
  add_kernel<Float32Io><<<elementwise_blocks(n), kThreads, 0, stream()>>>(y, x, n);
  FF_CUDA_LAUNCH_CHECK("add_kernel");
}

void CudaBackend::multiply(float* y, const float* x, int64_t n) {
  if (n <= 0) return;
  multiply_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(y, x, n);
  FF_CUDA_LAUNCH_CHECK("multiply_kernel");
}

void CudaBackend::copy_2d(float* dst, int64_t dst_ld, const float* src, int64_t src_ld,
                          int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  copy_2d_kernel<<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(dst, dst_ld, src,
                                                                            src_ld, rows, cols);
  FF_CUDA_LAUNCH_CHECK("copy_2d_kernel");
}

void CudaBackend::clip(float* x, int64_t n, float lo, float hi) {
  if (n <= 0) return;
  clip_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(x, n, lo, hi);
  FF_CUDA_LAUNCH_CHECK("clip_kernel");
}

void CudaBackend::scale_shift(const float* x, float* y, int64_t n, float scale, float offset) {
  if (n <= 0) return;
  scale_shift_kernel<<<elementwise_blocks(n), kThreads, 0, stream()>>>(x, y, n, scale, offset);
  FF_CUDA_LAUNCH_CHECK("scale_shift_kernel");
}

void CudaBackend::normalize(const float* x, float* y, int64_t rows, int64_t channels,
                            const float* mean, const float* variance, bool invert) {
  if (rows <= 0 || channels <= 0) return;
  normalize_kernel<<<elementwise_blocks(rows * channels), kThreads, 0, stream()>>>(
      x, y, rows, channels, mean, variance, invert);
  FF_CUDA_LAUNCH_CHECK("normalize_kernel");
}

void CudaBackend::category_encode(const float* x, int64_t numel, int64_t last, int64_t num_tokens,
                                  CategoryMode mode, bool skip_negative, float* y,
                                  StepState* state, int32_t node) {
  const int64_t per_row = mode == CategoryMode::OneHot ? 1 : last;
  const int64_t rows = per_row == 0 ? 0 : numel / per_row;
  if (rows * num_tokens > 0)
    FF_CUDA_CHECK(cudaMemsetAsync(y, 0, sizeof(float) * static_cast<size_t>(rows * num_tokens),
                                  stream()));
  if (numel <= 0 || per_row <= 0) return;
  category_encode_kernel<<<blocks_for((numel + per_row - 1) / per_row), kThreads, 0, stream()>>>(
      x, numel, per_row, num_tokens, mode, skip_negative, y, state, node);
  FF_CUDA_LAUNCH_CHECK("category_encode_kernel");
}

// ---- 16-bit storage ----

// Overlapping buffers (other than the same buffer converted in place between types of one size)
// are read from a stream-ordered copy of the source first, as the CPU's decode-then-encode
// behaves.
void CudaBackend::cast(void* dst, DType dst_type, const void* src, DType src_type, int64_t n) {
  dispatch_storage(src_type, "cast (source)", [&](auto in) {
    dispatch_storage(dst_type, "cast (destination)", [&](auto out) {
      using In = decltype(in);
      using Out = decltype(out);
      if (n <= 0) return;
      constexpr bool same_size = sizeof(typename In::T) == sizeof(typename Out::T);
      constexpr bool float_copy = In::kType == DType::Float32 && Out::kType == DType::Float32;
      if (float_copy && dst == src) return;
      const size_t in_bytes = sizeof(typename In::T) * static_cast<size_t>(n);
      const size_t out_bytes = sizeof(typename Out::T) * static_cast<size_t>(n);
      const uintptr_t s0 = reinterpret_cast<uintptr_t>(src), d0 = reinterpret_cast<uintptr_t>(dst);
      const bool in_place = same_size && dst == src;
      const bool overlap = !in_place && s0 < d0 + out_bytes && d0 < s0 + in_bytes;
      std::unique_ptr<DeviceScratch> copy;
      const void* from = src;
      if (overlap) {
        copy = std::make_unique<DeviceScratch>(device(), in_bytes);
        FF_CUDA_CHECK(cudaMemcpyAsync(copy->data(), src, in_bytes, cudaMemcpyDeviceToDevice,
                                      stream()));
        from = copy->data();
      }
      if constexpr (float_copy) {  // nothing to round
        FF_CUDA_CHECK(cudaMemcpyAsync(dst, from, out_bytes, cudaMemcpyDeviceToDevice, stream()));
      } else {
        cast_kernel<In, Out><<<elementwise_blocks(n), kThreads, 0, stream()>>>(
            typed<Out>(dst), typed<In>(from), n);
        FF_CUDA_LAUNCH_CHECK("cast_kernel");
      }
    });
  });
}

void CudaBackend::add_half(void* y, const void* x, int64_t n, DType half) {
  dispatch_half(half, "add_half", [&](auto io) {
    using IO = decltype(io);
    if (n <= 0) return;
    add_kernel<IO><<<elementwise_blocks(n), kThreads, 0, stream()>>>(typed<IO>(y), typed<IO>(x),
                                                                     n);
    FF_CUDA_LAUNCH_CHECK("add_kernel (16-bit)");
  });
}

void CudaBackend::bias_activation_half(void* y, const void* bias, int64_t rows, int64_t cols,
                                       Activation act, float alpha, void* preact, DType half) {
  dispatch_half(half, "bias_activation_half", [&](auto io) {
    using IO = decltype(io);
    if (rows <= 0 || cols <= 0) return;
    if (act == Activation::Softmax) {
      softmax_rows_kernel<IO, IO><<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
          typed<IO>(y), typed<IO>(bias), typed<IO>(y), typed<IO>(preact), rows, cols);
      FF_CUDA_LAUNCH_CHECK("softmax_rows_kernel (16-bit)");
      return;
    }
    bias_activation_kernel<IO, IO><<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(
        typed<IO>(y), typed<IO>(y), typed<IO>(bias), rows, cols, act, alpha, typed<IO>(preact));
    FF_CUDA_LAUNCH_CHECK("bias_activation_kernel (16-bit)");
  });
}

void CudaBackend::bias_activation_from_float(const float* src, void* y, const void* bias,
                                             int64_t rows, int64_t cols, Activation act,
                                             float alpha, void* preact, DType half) {
  dispatch_half(half, "dense_forward_half", [&](auto io) {
    using IO = decltype(io);
    if (rows <= 0 || cols <= 0) return;
    if (act == Activation::Softmax) {
      softmax_rows_kernel<Float32Io, IO>
          <<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
              src, typed<IO>(bias), typed<IO>(y), typed<IO>(preact), rows, cols);
      FF_CUDA_LAUNCH_CHECK("softmax_rows_kernel (float32 to 16-bit)");
      return;
    }
    bias_activation_kernel<Float32Io, IO>
        <<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(
            src, typed<IO>(y), typed<IO>(bias), rows, cols, act, alpha, typed<IO>(preact));
    FF_CUDA_LAUNCH_CHECK("bias_activation_kernel (float32 to 16-bit)");
  });
}

void CudaBackend::activation_forward_half(Activation act, float alpha, const void* x, void* y,
                                          int64_t rows, int64_t cols, DType half) {
  dispatch_half(half, "activation_forward_half", [&](auto io) {
    using IO = decltype(io);
    if (rows <= 0 || cols <= 0) return;
    if (act == Activation::Softmax) {
      softmax_rows_kernel<IO, IO><<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
          typed<IO>(x), nullptr, typed<IO>(y), nullptr, rows, cols);
      FF_CUDA_LAUNCH_CHECK("softmax_rows_kernel (16-bit)");
      return;
    }
    activation_forward_kernel<IO><<<elementwise_blocks(rows * cols), kThreads, 0, stream()>>>(
        act, alpha, typed<IO>(x), typed<IO>(y), rows * cols);
    FF_CUDA_LAUNCH_CHECK("activation_forward_kernel (16-bit)");
  });
}

void CudaBackend::activation_backward_half(Activation act, float alpha, const void* x,
                                           const void* y, const void* dy, void* dx, int64_t rows,
                                           int64_t cols, DType half) {
  dispatch_half(half, "activation_backward_half", [&](auto io) {
    using IO = decltype(io);
    const int64_t n = rows * cols;
    if (rows <= 0 || cols <= 0) return;
    if (act == Activation::Linear) {  // dx = dy through float32 (x and y may be null)
      cast_kernel<IO, IO><<<elementwise_blocks(n), kThreads, 0, stream()>>>(typed<IO>(dx),
                                                                           typed<IO>(dy), n);
      FF_CUDA_LAUNCH_CHECK("cast_kernel (linear gradient, 16-bit)");
      return;
    }
    if (act == Activation::Softmax) {
      softmax_backward_kernel<IO><<<blocks_for(rows, kWarpsPerBlock), kThreads, 0, stream()>>>(
          typed<IO>(y), typed<IO>(dy), typed<IO>(dx), rows, cols);
      FF_CUDA_LAUNCH_CHECK("softmax_backward_kernel (16-bit)");
      return;
    }
    activation_backward_kernel<IO><<<elementwise_blocks(n), kThreads, 0, stream()>>>(
        act, alpha, typed<IO>(x), typed<IO>(y), typed<IO>(dy), typed<IO>(dx), n);
    FF_CUDA_LAUNCH_CHECK("activation_backward_kernel (16-bit)");
  });
}

void CudaBackend::column_sum_half(const void* x, int64_t rows, int64_t cols, float* out,
                                  DType half) {
  dispatch_half(half, "column_sum_half", [&](auto io) {
    using IO = decltype(io);
    if (cols <= 0) return;
    column_sum_kernel<IO><<<elementwise_blocks(cols), kThreads, 0, stream()>>>(typed<IO>(x), rows,
                                                                               cols, out);
    FF_CUDA_LAUNCH_CHECK("column_sum_kernel (16-bit)");
  });
}

void CudaBackend::dropout_half(const void* x, void* y, int64_t n, float rate, uint64_t seed,
                               const StepState* state, DType half) {
  dispatch_half(half, "dropout_half", [&](auto io) {
    using IO = decltype(io);
    if (n <= 0) return;
    const float keep_scale = 1.0f / (1.0f - rate);  // as the CPU computes it
    dropout_kernel<IO><<<elementwise_blocks((n + 3) / 4), kThreads, 0, stream()>>>(
        typed<IO>(x), typed<IO>(y), n, rate, keep_scale, seed, state);
    FF_CUDA_LAUNCH_CHECK("dropout_kernel (16-bit)");
  });
}

}  // namespace ff::cuda
