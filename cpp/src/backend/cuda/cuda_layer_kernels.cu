// The CUDA backend's kernels of the ReLU, PReLU, UpSampling2D and LayerNormalization layers and
// of the depthwise convolution (DepthwiseConv2D, SeparableConv2D).
// The per-element rules are the CPU's own FF_HD functions (backend/layer_rules.h) and every sum
// runs in the CPU's order (cpu/layer_kernels.cpp), so the results have the CPU's bits (this file
// is compiled with --fmad=false, the core with -ffp-contract=off):
// - PReLU's alpha gradient: one thread per (member chunk, alpha value) adds its members in order
//   in double, then one thread per alpha value adds the chunks in order;
// - UpSampling2D's adjoint is gathered: one thread per dx element adds the outputs that read it
//   in raster order (no atomics);
// - LayerNormalization: one warp per row, lane l adding columns l, l + 32, ... in double, then
//   the butterfly (the CPU's lane_sum mirrors it); the gamma/beta gradients over the CPU's row
//   chunks, one thread per (chunk, column), then the chunks in order;
// - the depthwise convolution: one thread per output (forward) or per dx element (the data
//   gradient, gathered), the taps in the CPU's order in float; the kernel gradient per (chunk of
//   output positions, tap) in double, then the chunks in order.
// Scratch memory comes from the device's stream-ordered pool (legal inside graph capture);
// nothing synchronises or reads to the host. Indices are int64 and loops grid-stride.
#include <cmath>
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_launch.cuh"
#include "backend/layer_rules.h"

namespace ff::cuda {
namespace {

constexpr int kLanes = 32;
// LayerNormalization's gamma/beta gradient chunks: the CPU's kReduceChunk values per chunk
// (cpu/parallel.h, mirrored) for 2 * cols accumulators per row.
constexpr int64_t kReduceChunk = int64_t{1} << 14;

int64_t chunk_rows(int64_t cols) {
  const int64_t per = kReduceChunk / (2 * cols);
  return per > 1 ? per : 1;
}

// Blocks for a warp-per-row kernel over `rows` rows.
unsigned int warp_blocks(int64_t rows) { return grid_blocks(rows * kLanes); }

__device__ inline int64_t warp_index() { return first_index() / kLanes; }
__device__ inline int64_t warp_stride() { return grid_stride() / kLanes; }
__device__ inline int lane_index() { return static_cast<int>(threadIdx.x) % kLanes; }

// The butterfly: lane l adds lane l ^ m for m = 16, 8, 4, 2, 1 (every lane ends with the sum).
__device__ inline double warp_butterfly(double v) {
  for (int m = kLanes / 2; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

// ---- ReLU ----
__global__ void relu_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n,
                                    float max_value, float negative_slope, float threshold) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = relu_rule(x[i], max_value, negative_slope, threshold);
}

// dy may equal dx (each element read before it is written, by the same thread).
__global__ void relu_backward_kernel(const float* __restrict__ x, const float* dy, float* dx,
                                     int64_t n, float max_value, float negative_slope,
                                     float threshold) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = relu_grad_rule(x[i], max_value, negative_slope, threshold, dy[i]);
}

// ---- PReLU ----
__global__ void prelu_forward_kernel(PReluGeometry g, const float* __restrict__ x,
                                     const float* __restrict__ alpha, float* __restrict__ y) {
  const int64_t n = g.rows * g.sample;
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = prelu_rule(x[i], alpha[prelu_alpha_index(g, i)]);
}

__global__ void prelu_dx_kernel(PReluGeometry g, const float* __restrict__ x,
                                const float* __restrict__ alpha, const float* dy, float* dx) {
  const int64_t n = g.rows * g.sample;
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = prelu_grad_rule(x[i], alpha[prelu_alpha_index(g, i)], dy[i]);
}

// partial[k * alpha_size + a] = sum over members [k * kPReluChunk, ...) of alpha value a, in
// order, of dy * min(x, 0) in double (the CPU's chunk body).
__global__ void prelu_partials_kernel(PReluGeometry g, const float* __restrict__ x,
                                      const float* __restrict__ dy, int64_t members,
                                      int64_t chunks, double* __restrict__ partial) {
  const int64_t total = chunks * g.alpha_size;
  for (int64_t t = first_index(); t < total; t += grid_stride()) {
    const int64_t k = t / g.alpha_size, a = t % g.alpha_size;
    const int64_t end = (k + 1) * kPReluChunk < members ? (k + 1) * kPReluChunk : members;
    double acc = 0.0;
    for (int64_t m = k * kPReluChunk; m < end; ++m) {
      const int64_t i = prelu_member_index(g, m, a);
      const double neg = x[i] < 0.0f ? static_cast<double>(x[i]) : 0.0;
      acc += static_cast<double>(dy[i]) * neg;
    }
    partial[t] = acc;
  }
}

__global__ void prelu_finish_kernel(const double* __restrict__ partial, int64_t chunks,
                                    int64_t alpha_size, float* __restrict__ dalpha) {
  for (int64_t a = first_index(); a < alpha_size; a += grid_stride()) {
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[k * alpha_size + a];
    dalpha[a] = static_cast<float>(s);
  }
}

// ---- UpSampling2D ----
__global__ void upsample_forward_kernel(Upsample2DGeometry g, const float* __restrict__ x,
                                        float* __restrict__ y) {
  const int64_t OH = g.H * g.size_h, OW = g.W * g.size_w, C = g.C;
  const int64_t total = g.N * OH * OW * C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t c = i % C, p = i / C;
    const int64_t ow = p % OW, oh = (p / OW) % OH, n = p / (OW * OH);
    const float* xs = x + n * g.H * g.W * C + c;
    if (!g.bilinear) {
      y[i] = xs[((oh / g.size_h) * g.W + ow / g.size_w) * C];
      continue;
    }
    const ResizeTaps ty = upsample_taps(oh, g.H, g.size_h);
    const ResizeTaps tx = upsample_taps(ow, g.W, g.size_w);
    const float tl = xs[(ty.lower * g.W + tx.lower) * C];
    const float tr = xs[(ty.lower * g.W + tx.upper) * C];
    const float bl = xs[(ty.upper * g.W + tx.lower) * C];
    const float br = xs[(ty.upper * g.W + tx.upper) * C];
    const float top = tl + (tr - tl) * tx.lerp;
    const float bottom = bl + (br - bl) * tx.lerp;
    y[i] = top + (bottom - top) * ty.lerp;
  }
}

__global__ void upsample_backward_kernel(Upsample2DGeometry g, const float* __restrict__ dy,
                                         float* __restrict__ dx) {
  const int64_t OH = g.H * g.size_h, OW = g.W * g.size_w, C = g.C;
  const int64_t total = g.N * g.H * g.W * C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t c = i % C, p = i / C;
    const int64_t iw = p % g.W, ih = (p / g.W) % g.H, n = p / (g.W * g.H);
    const float* dys = dy + n * OH * OW * C + c;
    float acc = 0.0f;
    if (!g.bilinear) {
      for (int64_t a = 0; a < g.size_h; ++a)
        for (int64_t b = 0; b < g.size_w; ++b)
          acc += dys[((ih * g.size_h + a) * OW + iw * g.size_w + b) * C];
    } else {
      int64_t oh0, oh1, ow0, ow1;
      upsample_readers(ih, g.H, g.size_h, &oh0, &oh1);
      upsample_readers(iw, g.W, g.size_w, &ow0, &ow1);
      for (int64_t oh = oh0; oh <= oh1; ++oh) {
        const float wy = upsample_weight(upsample_taps(oh, g.H, g.size_h), ih);
        if (wy == 0.0f) continue;
        float inner = 0.0f;
        for (int64_t ow = ow0; ow <= ow1; ++ow) {
          const float wx = upsample_weight(upsample_taps(ow, g.W, g.size_w), iw);
          if (wx == 0.0f) continue;
          inner += wx * dys[(oh * OW + ow) * C];
        }
        acc += wy * inner;
      }
    }
    dx[i] = acc;
  }
}

// ---- LayerNormalization ----
// One warp per row: the row's mean and biased variance (two passes, the 32-lane order), then y.
__global__ void layer_norm_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                          int64_t rows, int64_t cols,
                                          const float* __restrict__ gamma,
                                          const float* __restrict__ beta, float epsilon,
                                          float* __restrict__ saved_mean,
                                          float* __restrict__ saved_inv_std) {
  const int lane = lane_index();
  for (int64_t r = warp_index(); r < rows; r += warp_stride()) {
    const float* xr = x + r * cols;
    double acc = 0.0;
    for (int64_t c = lane; c < cols; c += kLanes) acc += static_cast<double>(xr[c]);
    const double mean = warp_butterfly(acc) / static_cast<double>(cols);
    acc = 0.0;
    for (int64_t c = lane; c < cols; c += kLanes) {
      const double d = static_cast<double>(xr[c]) - mean;
      acc += d * d;
    }
    const double var = warp_butterfly(acc) / static_cast<double>(cols);
    const float m = static_cast<float>(mean);
    const float s = static_cast<float>(1.0 / std::sqrt(var + epsilon));
    if (lane == 0) {
      if (saved_mean) saved_mean[r] = m;
      if (saved_inv_std) saved_inv_std[r] = s;
    }
    float* yr = y + r * cols;
    for (int64_t c = lane; c < cols; c += kLanes) {
      const float xhat = (xr[c] - m) * s;
      const float v = gamma ? xhat * gamma[c] : xhat;
      yr[c] = beta ? v + beta[c] : v;
    }
  }
}

// partial[k * 2 cols + c] = sum dy, partial[k * 2 cols + cols + c] = sum dy * xhat over the rows
// of chunk k, in order, in double (the CPU's chunk body).
__global__ void layer_norm_param_partials_kernel(const float* __restrict__ x,
                                                 const float* __restrict__ dy, int64_t rows,
                                                 int64_t cols, int64_t per, int64_t chunks,
                                                 const float* __restrict__ saved_mean,
                                                 const float* __restrict__ saved_inv_std,
                                                 double* __restrict__ partial) {
  const int64_t total = chunks * cols;
  for (int64_t t = first_index(); t < total; t += grid_stride()) {
    const int64_t k = t / cols, c = t % cols;
    const int64_t end = (k + 1) * per < rows ? (k + 1) * per : rows;
    double sg = 0.0, sgx = 0.0;
    for (int64_t r = k * per; r < end; ++r) {
      const float xhat = (x[r * cols + c] - saved_mean[r]) * saved_inv_std[r];
      const double g = dy[r * cols + c];
      sg += g;
      sgx += g * static_cast<double>(xhat);
    }
    partial[k * 2 * cols + c] = sg;
    partial[k * 2 * cols + cols + c] = sgx;
  }
}

__global__ void layer_norm_param_finish_kernel(const double* __restrict__ partial, int64_t chunks,
                                               int64_t cols, float* __restrict__ dgamma,
                                               float* __restrict__ dbeta) {
  for (int64_t c = first_index(); c < cols; c += grid_stride()) {
    double sg = 0.0, sgx = 0.0;
    for (int64_t k = 0; k < chunks; ++k) {
      sg += partial[k * 2 * cols + c];
      sgx += partial[k * 2 * cols + cols + c];
    }
    if (dbeta) dbeta[c] = static_cast<float>(sg);
    if (dgamma) dgamma[c] = static_cast<float>(sgx);
  }
}

// One warp per row: the row means of g and g * xhat (the 32-lane order), then dx. dy may equal
// dx: every lane has read its columns of dy for both sums before any lane writes (the butterfly
// is a warp-wide exchange), and each lane then reads and writes only its own columns.
__global__ void layer_norm_dx_kernel(const float* __restrict__ x, const float* dy, int64_t rows,
                                     int64_t cols, const float* __restrict__ gamma,
                                     const float* __restrict__ saved_mean,
                                     const float* __restrict__ saved_inv_std, float* dx) {
  const int lane = lane_index();
  for (int64_t r = warp_index(); r < rows; r += warp_stride()) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    const float m = saved_mean[r], s = saved_inv_std[r];
    double sg = 0.0, sgx = 0.0;
    for (int64_t c = lane; c < cols; c += kLanes) {
      const float xhat = (xr[c] - m) * s;
      const float g = gamma ? dyr[c] * gamma[c] : dyr[c];
      sg += static_cast<double>(g);
      sgx += static_cast<double>(g) * static_cast<double>(xhat);
    }
    const float mg = static_cast<float>(warp_butterfly(sg) / static_cast<double>(cols));
    const float mgx = static_cast<float>(warp_butterfly(sgx) / static_cast<double>(cols));
    float* dxr = dx + r * cols;
    for (int64_t c = lane; c < cols; c += kLanes) {
      const float xhat = (xr[c] - m) * s;
      const float g = gamma ? dyr[c] * gamma[c] : dyr[c];
      dxr[c] = s * (g - mg - xhat * mgx);
    }
  }
}

// ---- depthwise convolution ----
__global__ void depthwise_forward_kernel(Conv2DGeometry g, const float* __restrict__ x,
                                         const float* __restrict__ kernel,
                                         float* __restrict__ y) {
  const int64_t C = g.C, M = g.F;
  const int64_t total = g.N * g.OH * g.OW * C * M;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t m = i % M, c = (i / M) % C, p = i / (M * C);
    const int64_t ow = p % g.OW, oh = (p / g.OW) % g.OH, n = p / (g.OW * g.OH);
    float acc = 0.0f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      if (ih < 0 || ih >= g.H) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
        if (iw < 0 || iw >= g.W) continue;
        acc += x[((n * g.H + ih) * g.W + iw) * C + c] *
               kernel[((kh * g.KW + kw) * C + c) * M + m];
      }
    }
    y[i] = acc;
  }
}

__global__ void depthwise_backward_data_kernel(Conv2DGeometry g, const float* __restrict__ dy,
                                               const float* __restrict__ kernel,
                                               float* __restrict__ dx) {
  const int64_t C = g.C, M = g.F;
  const int64_t total = g.N * g.H * g.W * C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t c = i % C, p = i / C;
    const int64_t iw = p % g.W, ih = (p / g.W) % g.H, n = p / (g.W * g.H);
    float acc = 0.0f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t th = ih + g.pad_top - kh * g.dilation_h;
      if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.OH) continue;
      const int64_t oh = th / g.stride_h;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t tw = iw + g.pad_left - kw * g.dilation_w;
        if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.OW) continue;
        const int64_t ow = tw / g.stride_w;
        const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C * M + c * M;
        const float* k = kernel + ((kh * g.KW + kw) * C + c) * M;
        for (int64_t m = 0; m < M; ++m) acc += d[m] * k[m];
      }
    }
    dx[i] = acc;
  }
}

// partial[k * taps + t] = sum over the output positions of chunk k, in order, of x * dy for tap
// t = ((kh * KW + kw) * C + c) * M + m, in double (the CPU's chunk body).
__global__ void depthwise_filter_partials_kernel(Conv2DGeometry g, const float* __restrict__ x,
                                                 const float* __restrict__ dy, int64_t chunks,
                                                 double* __restrict__ partial) {
  const int64_t C = g.C, M = g.F, taps = g.KH * g.KW * C * M;
  const int64_t positions = g.N * g.OH * g.OW;
  const int64_t total = chunks * taps;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t k = i / taps, t = i % taps;
    const int64_t m = t % M, c = (t / M) % C, kw = (t / (M * C)) % g.KW, kh = t / (M * C * g.KW);
    const int64_t end =
        (k + 1) * kDepthwiseChunk < positions ? (k + 1) * kDepthwiseChunk : positions;
    double acc = 0.0;
    for (int64_t p = k * kDepthwiseChunk; p < end; ++p) {
      const int64_t ow = p % g.OW, oh = (p / g.OW) % g.OH, n = p / (g.OW * g.OH);
      const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
      const int64_t iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      acc += static_cast<double>(x[((n * g.H + ih) * g.W + iw) * C + c]) *
             static_cast<double>(dy[p * C * M + c * M + m]);
    }
    partial[i] = acc;
  }
}

__global__ void depthwise_filter_finish_kernel(const double* __restrict__ partial, int64_t chunks,
                                               int64_t taps, float* __restrict__ dkernel) {
  for (int64_t t = first_index(); t < taps; t += grid_stride()) {
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[k * taps + t];
    dkernel[t] = static_cast<float>(s);
  }
}

}  // namespace

void CudaBackend::relu_forward(const float* x, float* y, int64_t n, float max_value,
                               float negative_slope, float threshold) {
  if (n <= 0) return;
  relu_forward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(x, y, n, max_value,
                                                                      negative_slope, threshold);
  FF_CUDA_LAUNCH_CHECK("relu_forward_kernel");
}

void CudaBackend::relu_backward(const float* x, const float* dy, float* dx, int64_t n,
                                float max_value, float negative_slope, float threshold) {
  if (n <= 0) return;
  relu_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(
      x, dy, dx, n, max_value, negative_slope, threshold);
  FF_CUDA_LAUNCH_CHECK("relu_backward_kernel");
}

void CudaBackend::prelu_forward(const PReluGeometry& g, const float* x, const float* alpha,
                                float* y) {
  const int64_t n = g.rows * g.sample;
  if (n <= 0 || g.alpha_size <= 0) return;
  prelu_forward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(g, x, alpha, y);
  FF_CUDA_LAUNCH_CHECK("prelu_forward_kernel");
}

void CudaBackend::prelu_backward(const PReluGeometry& g, const float* x, const float* alpha,
                                 const float* dy, float* dx, float* dalpha) {
  if (g.alpha_size <= 0 || g.sample <= 0) return;
  if (dalpha) {  // first: dx may be dy's buffer
    const int64_t members = g.rows * (g.sample / g.alpha_size);
    const int64_t chunks = (members + kPReluChunk - 1) / kPReluChunk;
    DeviceScratch scratch(device(), sizeof(double) * static_cast<size_t>(chunks * g.alpha_size));
    double* partial = scratch.as<double>();
    if (chunks > 0) {
      prelu_partials_kernel<<<grid_blocks(chunks * g.alpha_size), kLaunchThreads, 0, stream()>>>(
          g, x, dy, members, chunks, partial);
      FF_CUDA_LAUNCH_CHECK("prelu_partials_kernel");
    }
    prelu_finish_kernel<<<grid_blocks(g.alpha_size), kLaunchThreads, 0, stream()>>>(
        partial, chunks, g.alpha_size, dalpha);
    FF_CUDA_LAUNCH_CHECK("prelu_finish_kernel");
  }
  const int64_t n = g.rows * g.sample;
  if (dx && n > 0) {
    prelu_dx_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(g, x, alpha, dy, dx);
    FF_CUDA_LAUNCH_CHECK("prelu_dx_kernel");
  }
}

void CudaBackend::upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y) {
  const int64_t total = g.N * g.H * g.size_h * g.W * g.size_w * g.C;
  if (total <= 0) return;
  upsample_forward_kernel<<<grid_blocks(total), kLaunchThreads, 0, stream()>>>(g, x, y);
  FF_CUDA_LAUNCH_CHECK("upsample_forward_kernel");
}

void CudaBackend::upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx) {
  const int64_t total = g.N * g.H * g.W * g.C;
  if (total <= 0) return;
  upsample_backward_kernel<<<grid_blocks(total), kLaunchThreads, 0, stream()>>>(g, dy, dx);
  FF_CUDA_LAUNCH_CHECK("upsample_backward_kernel");
}

void CudaBackend::layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols,
                                     const float* gamma, const float* beta, float epsilon,
                                     float* saved_mean, float* saved_inv_std) {
  if (rows <= 0 || cols <= 0) return;
  layer_norm_forward_kernel<<<warp_blocks(rows), kLaunchThreads, 0, stream()>>>(
      x, y, rows, cols, gamma, beta, epsilon, saved_mean, saved_inv_std);
  FF_CUDA_LAUNCH_CHECK("layer_norm_forward_kernel");
}

void CudaBackend::layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                                      const float* gamma, const float* saved_mean,
                                      const float* saved_inv_std, float* dx, float* dgamma,
                                      float* dbeta) {
  if (cols <= 0) return;
  if (dgamma || dbeta) {
    const int64_t per = chunk_rows(cols);
    const int64_t chunks = rows > 0 ? (rows + per - 1) / per : 0;
    DeviceScratch scratch(device(), sizeof(double) * static_cast<size_t>(chunks * 2 * cols));
    double* partial = scratch.as<double>();
    if (chunks > 0) {
      layer_norm_param_partials_kernel<<<grid_blocks(chunks * cols), kLaunchThreads, 0,
                                         stream()>>>(x, dy, rows, cols, per, chunks, saved_mean,
                                                     saved_inv_std, partial);
      FF_CUDA_LAUNCH_CHECK("layer_norm_param_partials_kernel");
    }
    layer_norm_param_finish_kernel<<<grid_blocks(cols), kLaunchThreads, 0, stream()>>>(
        partial, chunks, cols, dgamma, dbeta);
    FF_CUDA_LAUNCH_CHECK("layer_norm_param_finish_kernel");
  }
  if (!dx || rows <= 0) return;
  layer_norm_dx_kernel<<<warp_blocks(rows), kLaunchThreads, 0, stream()>>>(
      x, dy, rows, cols, gamma, saved_mean, saved_inv_std, dx);
  FF_CUDA_LAUNCH_CHECK("layer_norm_dx_kernel");
}

void CudaBackend::depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x,
                                           const float* kernel, float* y) {
  const int64_t total = g.N * g.OH * g.OW * g.C * g.F;
  if (total <= 0) return;
  depthwise_forward_kernel<<<grid_blocks(total), kLaunchThreads, 0, stream()>>>(g, x, kernel, y);
  FF_CUDA_LAUNCH_CHECK("depthwise_forward_kernel");
}

void CudaBackend::depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy,
                                                 const float* kernel, float* dx) {
  const int64_t total = g.N * g.H * g.W * g.C;
  if (total <= 0) return;
  depthwise_backward_data_kernel<<<grid_blocks(total), kLaunchThreads, 0, stream()>>>(g, dy,
                                                                                      kernel, dx);
  FF_CUDA_LAUNCH_CHECK("depthwise_backward_data_kernel");
}

void CudaBackend::depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x,
                                                   const float* dy, float* dkernel) {
  const int64_t taps = g.KH * g.KW * g.C * g.F;
  if (taps <= 0) return;
  const int64_t positions = g.N * g.OH * g.OW;
  const int64_t chunks = positions > 0 ? (positions + kDepthwiseChunk - 1) / kDepthwiseChunk : 0;
  DeviceScratch scratch(device(), sizeof(double) * static_cast<size_t>(chunks * taps));
  double* partial = scratch.as<double>();
  if (chunks > 0) {
    depthwise_filter_partials_kernel<<<grid_blocks(chunks * taps), kLaunchThreads, 0,
                                       stream()>>>(g, x, dy, chunks, partial);
    FF_CUDA_LAUNCH_CHECK("depthwise_filter_partials_kernel");
  }
  depthwise_filter_finish_kernel<<<grid_blocks(taps), kLaunchThreads, 0, stream()>>>(
      partial, chunks, taps, dkernel);
  FF_CUDA_LAUNCH_CHECK("depthwise_filter_finish_kernel");
}

}  // namespace ff::cuda
