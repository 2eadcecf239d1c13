// The CUDA backend's BatchNormalization kernels: forward with the batch statistics (and the
// moving statistics updated on the device unless the loop is halted), forward with the moving
// statistics, and backward. The arithmetic is the CPU's (cpu/normalization.cpp), step for step:
// per-channel sums in double over the same fixed row chunks (the CPU's kReduceChunk values per
// chunk, rows in order within a chunk, then the chunks added in order from 0), the per-channel
// scale and shift computed in double and rounded to float, then y = x * a + b in float (this
// file is compiled with --fmad=false, the CPU core with -ffp-contract=off): the same bits as the
// CPU, and the same bits on every run (no atomics at all).
//
// Each call is a few small kernels on the compute stream: chunk partials (one thread per chunk
// and channel), per-channel finishing (one thread per channel), then one elementwise pass. The
// partials and per-channel coefficients live in stream-ordered scratch memory from the device's
// pool (legal inside graph capture); nothing synchronises or reads to the host.
//
// The 16-bit storage functions (batch_norm_*_half: x, y, dy, dx 16-bit; gamma, beta and the
// statistics float32) run the same kernels, templated on a storage policy (cuda_half_io.cuh)
// that decodes 16-bit values to float and rounds each output once; the float32 instantiation
// reads and writes floats as before.
#include <cmath>
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_half_io.cuh"
#include "backend/cuda/cuda_launch.cuh"

namespace ff::cuda {
namespace {

// Values per reduction chunk: cpu/parallel.h's kReduceChunk (mirrored: that header is the CPU's
// threading code). The chunks fix the order of the sums, hence the CPU's bits.
constexpr int64_t kReduceChunk = int64_t{1} << 14;

// The CPU's chunking of chunked_row_sums for `width` accumulators per row.
struct Chunks {
  int64_t rows_per_chunk, count;
};
Chunks chunks_for(int64_t rows, int64_t width) {
  const int64_t per = kReduceChunk / width > 1 ? kReduceChunk / width : 1;
  return {per, rows <= 0 ? 0 : (rows + per - 1) / per};
}

// partial[k, c] = sum over the rows of chunk k (in order, from 0) of x[r, c] (centered: minus
// mean[c], squared), in double: the CPU's chunk bodies.
template <class IO>
__global__ void channel_partials_kernel(const typename IO::T* __restrict__ x, int64_t rows,
                                        int64_t channels, Chunks chunks,
                                        const double* __restrict__ mean,
                                        double* __restrict__ partial) {
  const int64_t total = chunks.count * channels;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t k = i / channels, c = i % channels;
    const int64_t r0 = k * chunks.rows_per_chunk;
    const int64_t r1 = r0 + chunks.rows_per_chunk < rows ? r0 + chunks.rows_per_chunk : rows;
    double acc = 0.0;
    if (mean) {
      const double m = mean[c];
      for (int64_t r = r0; r < r1; ++r) {
        const double d = IO::load(x, r * channels + c) - m;
        acc += d * d;
      }
    } else {
      for (int64_t r = r0; r < r1; ++r) acc += IO::load(x, r * channels + c);
    }
    partial[i] = acc;
  }
}

// out[c] = (0 + partial[0, c] + partial[1, c] + ...) / rows: the CPU's in-order chunk sum, then
// its division (the mean, or the biased variance as Keras's moments()).
__global__ void channel_finish_kernel(const double* __restrict__ partial, int64_t chunk_count,
                                      int64_t channels, int64_t rows, double* __restrict__ out) {
  for (int64_t c = first_index(); c < channels; c += grid_stride()) {
    double s = 0.0;
    for (int64_t k = 0; k < chunk_count; ++k) s += partial[k * channels + c];
    out[c] = s / static_cast<double>(rows);
  }
}

// The per-channel coefficients of cpu normalize_with: a = float(inv_std * gamma), b = float(beta
// - mean * inv_std * gamma), saved_mean/saved_inv_std (nullable). With batch statistics (var not
// null) inv_std = 1 / sqrt(var + epsilon) and the moving statistics (nullable) take the batch's
// unless state (nullable) is halted; else mean and inv_std come from the moving statistics.
__global__ void channel_coefficients_kernel(
    int64_t channels, const double* __restrict__ batch_mean, const double* __restrict__ batch_var,
    const float* __restrict__ moving_mean_in, const float* __restrict__ moving_var_in,
    const float* __restrict__ gamma, const float* __restrict__ beta, float epsilon,
    float momentum, float* __restrict__ moving_mean, float* __restrict__ moving_var,
    float* __restrict__ saved_mean, float* __restrict__ saved_inv_std, const StepState* state,
    float* __restrict__ a, float* __restrict__ b) {
  for (int64_t c = first_index(); c < channels; c += grid_stride()) {
    double mean, inv_std;
    if (batch_var) {
      mean = batch_mean[c];
      inv_std = 1.0 / std::sqrt(batch_var[c] + epsilon);
    } else {
      mean = moving_mean_in[c];
      inv_std = 1.0 / std::sqrt(static_cast<double>(moving_var_in[c]) + epsilon);
    }
    const double scale = inv_std * (gamma ? gamma[c] : 1.0);
    a[c] = static_cast<float>(scale);
    b[c] = static_cast<float>((beta ? beta[c] : 0.0) - mean * scale);
    if (saved_mean) saved_mean[c] = static_cast<float>(mean);
    if (saved_inv_std) saved_inv_std[c] = static_cast<float>(inv_std);
    if (batch_var && moving_mean && moving_var && !(state && state->halted)) {
      moving_mean[c] = static_cast<float>(moving_mean[c] * static_cast<double>(momentum) +
                                          mean * (1.0 - momentum));
      moving_var[c] = static_cast<float>(moving_var[c] * static_cast<double>(momentum) +
                                         batch_var[c] * (1.0 - momentum));
    }
  }
}

// y[r, c] = x[r, c] * a[c] + b[c] (cpu channel_affine).
// x may equal y (each element is read before it is written, by the same thread).
template <class IO>
__global__ void channel_affine_kernel(const typename IO::T* x, typename IO::T* y, int64_t n,
                                      int64_t channels, const float* __restrict__ a,
                                      const float* __restrict__ b) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t c = i % channels;
    IO::store(y, i, IO::load(x, i) * a[c] + b[c]);
  }
}

// Backward chunk partials: partial[k, c] = sum dy, partial[k, channels + c] = sum dy * xhat over
// the rows of chunk k (chunks of the CPU's 2 * channels width), xhat = (x - mean) * inv_std in
// double, as the CPU's body.
template <class IO>
__global__ void bn_backward_partials_kernel(const typename IO::T* __restrict__ x,
                                            const typename IO::T* __restrict__ dy, int64_t rows,
                                            int64_t channels, Chunks chunks,
                                            const float* __restrict__ saved_mean,
                                            const float* __restrict__ saved_inv_std,
                                            double* __restrict__ partial) {
  const int64_t total = chunks.count * channels;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t k = i / channels, c = i % channels;
    const int64_t r0 = k * chunks.rows_per_chunk;
    const int64_t r1 = r0 + chunks.rows_per_chunk < rows ? r0 + chunks.rows_per_chunk : rows;
    const double m = saved_mean[c], s = saved_inv_std[c];
    double sum_g = 0.0, sum_gx = 0.0;
    for (int64_t r = r0; r < r1; ++r) {
      const double g = IO::load(dy, r * channels + c);
      const double xhat = (static_cast<double>(IO::load(x, r * channels + c)) - m) * s;
      sum_g += g;
      sum_gx += g * xhat;
    }
    partial[k * 2 * channels + c] = sum_g;
    partial[k * 2 * channels + channels + c] = sum_gx;
  }
}

// dbeta, dgamma (nullable) from the chunk sums in order; the coefficients of dx: k = gamma *
// inv_std, m1 = mean(dy), m2 = mean(dy * xhat) (0 without batch statistics), as floats.
__global__ void bn_backward_finish_kernel(const double* __restrict__ partial, int64_t chunk_count,
                                          int64_t rows, int64_t channels,
                                          const float* __restrict__ gamma,
                                          const float* __restrict__ saved_inv_std,
                                          bool batch_stats, float* __restrict__ dgamma,
                                          float* __restrict__ dbeta, float* __restrict__ coef) {
  const double n = static_cast<double>(rows > 1 ? rows : 1);
  for (int64_t c = first_index(); c < channels; c += grid_stride()) {
    double sg = 0.0, sgx = 0.0;
    for (int64_t k = 0; k < chunk_count; ++k) {
      sg += partial[k * 2 * channels + c];
      sgx += partial[k * 2 * channels + channels + c];
    }
    if (dbeta) dbeta[c] = static_cast<float>(sg);
    if (dgamma) dgamma[c] = static_cast<float>(sgx);
    if (coef) {
      coef[c] = static_cast<float>((gamma ? gamma[c] : 1.0) * saved_inv_std[c]);
      coef[channels + c] = batch_stats ? static_cast<float>(sg / n) : 0.0f;
      coef[2 * channels + c] = batch_stats ? static_cast<float>(sgx / n) : 0.0f;
    }
  }
}

// dx = k (dy - m1 - xhat m2), xhat = (x - mean) * inv_std in float, as the CPU's last loop.
// dy may equal dx (each element is read before it is written, by the same thread).
template <class IO>
__global__ void bn_backward_dx_kernel(const typename IO::T* __restrict__ x,
                                      const typename IO::T* dy, int64_t n, int64_t channels,
                                      const float* __restrict__ saved_mean,
                                      const float* __restrict__ saved_inv_std,
                                      const float* __restrict__ coef, typename IO::T* dx) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t c = i % channels;
    const float xhat = (IO::load(x, i) - saved_mean[c]) * saved_inv_std[c];
    IO::store(dx, i,
              coef[c] * (IO::load(dy, i) - coef[channels + c] - xhat * coef[2 * channels + c]));
  }
}

// The three functions for one storage policy IO: x, y, dy, dx hold IO::T elements.
template <class IO>
void bn_forward_training(CudaBackend& be, const void* x_in, void* y_out, int64_t rows,
                         int64_t channels, const float* gamma, const float* beta, float epsilon,
                         float momentum, float* moving_mean, float* moving_var, float* saved_mean,
                         float* saved_inv_std, const StepState* state) {
  const typename IO::T* x = typed<IO>(x_in);
  typename IO::T* y = typed<IO>(y_out);
  if (rows <= 0 || channels <= 0) return;  // the CPU writes nothing either
  const Chunks chunks = chunks_for(rows, channels);
  // doubles: partials (count x channels), mean, var; then floats a, b.
  const size_t partial_n = static_cast<size_t>(chunks.count * channels);
  const size_t ch = static_cast<size_t>(channels);
  DeviceScratch scratch(be.device(),
                        sizeof(double) * (partial_n + 2 * ch) + sizeof(float) * 2 * ch);
  double* partial = static_cast<double*>(scratch.data());
  double* mean = partial + partial_n;
  double* var = mean + ch;
  float* a = reinterpret_cast<float*>(var + ch);
  float* b = a + ch;
  const unsigned int pblocks = grid_blocks(chunks.count * channels);
  const unsigned int cblocks = grid_blocks(channels);
  const cudaStream_t stream = be.stream();
  channel_partials_kernel<IO><<<pblocks, kLaunchThreads, 0, stream>>>(x, rows, channels, chunks,
                                                                      nullptr, partial);
  FF_CUDA_LAUNCH_CHECK("channel_partials_kernel (mean)");
  channel_finish_kernel<<<cblocks, kLaunchThreads, 0, stream>>>(partial, chunks.count, channels,
                                                              rows, mean);
  FF_CUDA_LAUNCH_CHECK("channel_finish_kernel (mean)");
  channel_partials_kernel<IO><<<pblocks, kLaunchThreads, 0, stream>>>(x, rows, channels, chunks,
                                                                      mean, partial);
  FF_CUDA_LAUNCH_CHECK("channel_partials_kernel (variance)");
  channel_finish_kernel<<<cblocks, kLaunchThreads, 0, stream>>>(partial, chunks.count, channels,
                                                              rows, var);
  FF_CUDA_LAUNCH_CHECK("channel_finish_kernel (variance)");
  channel_coefficients_kernel<<<cblocks, kLaunchThreads, 0, stream>>>(
      channels, mean, var, nullptr, nullptr, gamma, beta, epsilon, momentum, moving_mean,
      moving_var, saved_mean, saved_inv_std, state, a, b);
  FF_CUDA_LAUNCH_CHECK("channel_coefficients_kernel (batch)");
  channel_affine_kernel<IO><<<grid_blocks(rows * channels), kLaunchThreads, 0, stream>>>(
      x, y, rows * channels, channels, a, b);
  FF_CUDA_LAUNCH_CHECK("channel_affine_kernel");
}

template <class IO>
void bn_forward_inference(CudaBackend& be, const void* x_in, void* y_out, int64_t rows,
                          int64_t channels, const float* gamma, const float* beta,
                          const float* moving_mean, const float* moving_var, float epsilon,
                          float* saved_mean, float* saved_inv_std) {
  const typename IO::T* x = typed<IO>(x_in);
  typename IO::T* y = typed<IO>(y_out);
  if (channels <= 0) return;
  const size_t ch = static_cast<size_t>(channels);
  DeviceScratch scratch(be.device(), sizeof(float) * 2 * ch);
  float* a = static_cast<float*>(scratch.data());
  float* b = a + ch;
  channel_coefficients_kernel<<<grid_blocks(channels), kLaunchThreads, 0, be.stream()>>>(
      channels, nullptr, nullptr, moving_mean, moving_var, gamma, beta, epsilon, 0.0f, nullptr,
      nullptr, saved_mean, saved_inv_std, nullptr, a, b);
  FF_CUDA_LAUNCH_CHECK("channel_coefficients_kernel (moving)");
  if (rows <= 0) return;
  channel_affine_kernel<IO><<<grid_blocks(rows * channels), kLaunchThreads, 0, be.stream()>>>(
      x, y, rows * channels, channels, a, b);
  FF_CUDA_LAUNCH_CHECK("channel_affine_kernel");
}

template <class IO>
void bn_backward(CudaBackend& be, const void* x_in, const void* dy_in, int64_t rows,
                 int64_t channels, const float* gamma, const float* saved_mean,
                 const float* saved_inv_std, bool batch_stats, void* dx_out, float* dgamma,
                 float* dbeta) {
  const typename IO::T* x = typed<IO>(x_in);
  const typename IO::T* dy = typed<IO>(dy_in);
  typename IO::T* dx = typed<IO>(dx_out);
  const bool want_dx = dx && rows > 0;
  if (channels <= 0 || (!dgamma && !dbeta && !want_dx)) return;
  const Chunks chunks = chunks_for(rows, 2 * channels);
  const size_t partial_n = static_cast<size_t>(chunks.count * 2 * channels);
  const size_t ch = static_cast<size_t>(channels);
  DeviceScratch scratch(be.device(), sizeof(double) * partial_n + sizeof(float) * 3 * ch);
  double* partial = static_cast<double*>(scratch.data());
  float* coef = reinterpret_cast<float*>(partial + partial_n);
  if (chunks.count > 0) {
    bn_backward_partials_kernel<IO>
        <<<grid_blocks(chunks.count * channels), kLaunchThreads, 0, be.stream()>>>(
            x, dy, rows, channels, chunks, saved_mean, saved_inv_std, partial);
    FF_CUDA_LAUNCH_CHECK("bn_backward_partials_kernel");
  }
  bn_backward_finish_kernel<<<grid_blocks(channels), kLaunchThreads, 0, be.stream()>>>(
      partial, chunks.count, rows, channels, gamma, saved_inv_std, batch_stats, dgamma, dbeta,
      want_dx ? coef : nullptr);
  FF_CUDA_LAUNCH_CHECK("bn_backward_finish_kernel");
  if (!want_dx) return;
  bn_backward_dx_kernel<IO><<<grid_blocks(rows * channels), kLaunchThreads, 0, be.stream()>>>(
      x, dy, rows * channels, channels, saved_mean, saved_inv_std, coef, dx);
  FF_CUDA_LAUNCH_CHECK("bn_backward_dx_kernel");
}

}  // namespace

void CudaBackend::batch_norm_forward_training(const float* x, float* y, int64_t rows,
                                              int64_t channels, const float* gamma,
                                              const float* beta, float epsilon, float momentum,
                                              float* moving_mean, float* moving_var,
                                              float* saved_mean, float* saved_inv_std,
                                              const StepState* state) {
  bn_forward_training<Float32Io>(*this, x, y, rows, channels, gamma, beta, epsilon, momentum,
                                 moving_mean, moving_var, saved_mean, saved_inv_std, state);
}

void CudaBackend::batch_norm_forward_inference(const float* x, float* y, int64_t rows,
                                               int64_t channels, const float* gamma,
                                               const float* beta, const float* moving_mean,
                                               const float* moving_var, float epsilon,
                                               float* saved_mean, float* saved_inv_std) {
  bn_forward_inference<Float32Io>(*this, x, y, rows, channels, gamma, beta, moving_mean,
                                  moving_var, epsilon, saved_mean, saved_inv_std);
}

void CudaBackend::batch_norm_backward(const float* x, const float* dy, int64_t rows,
                                      int64_t channels, const float* gamma,
                                      const float* saved_mean, const float* saved_inv_std,
                                      bool batch_stats, float* dx, float* dgamma, float* dbeta) {
  bn_backward<Float32Io>(*this, x, dy, rows, channels, gamma, saved_mean, saved_inv_std,
                         batch_stats, dx, dgamma, dbeta);
}

// ---- 16-bit storage ----

void CudaBackend::batch_norm_forward_training_half(const void* x, void* y, int64_t rows,
                                                   int64_t channels, const float* gamma,
                                                   const float* beta, float epsilon,
                                                   float momentum, float* moving_mean,
                                                   float* moving_var, float* saved_mean,
                                                   float* saved_inv_std, const StepState* state,
                                                   DType half) {
  dispatch_half(half, "batch_norm_forward_training_half", [&](auto io) {
    bn_forward_training<decltype(io)>(*this, x, y, rows, channels, gamma, beta, epsilon, momentum,
                                      moving_mean, moving_var, saved_mean, saved_inv_std, state);
  });
}

void CudaBackend::batch_norm_forward_inference_half(const void* x, void* y, int64_t rows,
                                                    int64_t channels, const float* gamma,
                                                    const float* beta, const float* moving_mean,
                                                    const float* moving_var, float epsilon,
                                                    float* saved_mean, float* saved_inv_std,
                                                    DType half) {
  dispatch_half(half, "batch_norm_forward_inference_half", [&](auto io) {
    bn_forward_inference<decltype(io)>(*this, x, y, rows, channels, gamma, beta, moving_mean,
                                       moving_var, epsilon, saved_mean, saved_inv_std);
  });
}

void CudaBackend::batch_norm_backward_half(const void* x, const void* dy, int64_t rows,
                                           int64_t channels, const float* gamma,
                                           const float* saved_mean, const float* saved_inv_std,
                                           bool batch_stats, void* dx, float* dgamma,
                                           float* dbeta, DType half) {
  dispatch_half(half, "batch_norm_backward_half", [&](auto io) {
    bn_backward<decltype(io)>(*this, x, dy, rows, channels, gamma, saved_mean, saved_inv_std,
                              batch_stats, dx, dgamma, dbeta);
  });
}

}  // namespace ff::cuda
