// The CUDA backend's pooling and zero-padding kernels (NHWC, float32), in plain CUDA: max and
// average pooling forward and backward, ZeroPadding2D forward and backward. The window rules are
// the CPU's own (backend/pool_rules.h: the clipped window, `pool_beats`), applied in the CPU's
// order, so every result has the CPU's bits (cpu/pooling.cpp; this file is compiled with
// --fmad=false). NaN propagates: a window holding a NaN has a NaN maximum (the first NaN) and a
// NaN mean.
//
// The backward passes never scatter (no atomics): one thread per dx element gathers from the
// windows that contain it, in the CPU's window order (oh, then ow), starting from 0, which is the
// CPU's sum for that element. Max pooling first finds every window's first maximum again from x
// (one thread per dy element) into stream-ordered scratch memory (the pixel index of the
// maximum), then the gather compares that index with its own: the cost stays that of one
// forward pass even for a global window. Grid-stride loops over int64 indices; nothing here
// synchronises or reads to the host (the step is captured as a CUDA graph).
//
// The pooling kernels serve the 16-bit storage functions (max/avg_pool2d_*_half) too: each is
// templated on a storage policy (cuda_half_io.cuh) that decodes 16-bit values to float and
// rounds each output once; the float32 instantiation reads and writes floats as before.
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_half_io.cuh"
#include "backend/cuda/cuda_launch.cuh"
#include "backend/pool_rules.h"

namespace ff::cuda {
namespace {

// Index i of an (N, OH, OW, C) tensor as (n, oh, ow, c).
struct Pos4 {
  int64_t n, a, b, c;
};
__device__ inline Pos4 split(int64_t i, int64_t A, int64_t B, int64_t C) {
  Pos4 p;
  p.c = i % C;
  i /= C;
  p.b = i % B;
  i /= B;
  p.a = i % A;
  p.n = i / A;
  return p;
}

// y[n, oh, ow, c] = the first maximum of the window (cpu max_pool_row's selection, in (ih, iw)
// order). An empty window (not produced by any layer's geometry) gives NaN without reading x.
template <class IO>
__global__ void max_pool_forward_kernel(Pool2DGeometry g, const typename IO::T* __restrict__ x,
                                        typename IO::T* __restrict__ y) {
  const int64_t total = g.N * g.OH * g.OW * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.OH, g.OW, g.C);
    const PoolWindow w = pool_window(g, p.a, p.b);
    const typename IO::T* xn = x + p.n * g.H * g.W * g.C + p.c;
    if (w.h1 <= w.h0 || w.w1 <= w.w0) {
      IO::store(y, i, __int_as_float(0x7fc00000));
      continue;
    }
    float b = IO::load(xn, (w.h0 * g.W + w.w0) * g.C);
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) {
        const float v = IO::load(xn, (ih * g.W + iw) * g.C);
        b = pool_beats(v, b) ? v : b;
      }
    IO::store(y, i, b);
  }
}

// at[n, oh, ow, c] = ih * W + iw of the window's first maximum (the first NaN when there is
// one), as cpu max_pool_backward_sample finds it; -1 for an empty window.
template <class IO>
__global__ void max_pool_argmax_kernel(Pool2DGeometry g, const typename IO::T* __restrict__ x,
                                       int64_t* __restrict__ at) {
  const int64_t total = g.N * g.OH * g.OW * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.OH, g.OW, g.C);
    const PoolWindow w = pool_window(g, p.a, p.b);
    const typename IO::T* xn = x + p.n * g.H * g.W * g.C + p.c;
    if (w.h1 <= w.h0 || w.w1 <= w.w0) {
      at[i] = -1;
      continue;
    }
    float b = IO::load(xn, (w.h0 * g.W + w.w0) * g.C);
    int64_t best = w.h0 * g.W + w.w0;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) {
        const int64_t pix = ih * g.W + iw;
        const float v = IO::load(xn, pix * g.C);
        if (pool_beats(v, b)) {
          b = v;
          best = pix;
        }
      }
    at[i] = best;
  }
}

// dx[n, ih, iw, c] = the sum, over the windows holding (ih, iw) in (oh, ow) order, of dy where
// that window's first maximum is (ih, iw).
template <class IO>
__global__ void max_pool_backward_kernel(Pool2DGeometry g, const int64_t* __restrict__ at,
                                         const typename IO::T* __restrict__ dy,
                                         typename IO::T* __restrict__ dx) {
  const int64_t total = g.N * g.H * g.W * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.H, g.W, g.C);
    int64_t oh0, oh1, ow0, ow1;
    pool_windows_containing(p.a, g.stride_h, g.pad_top, g.KH, g.OH, &oh0, &oh1);
    pool_windows_containing(p.b, g.stride_w, g.pad_left, g.KW, g.OW, &ow0, &ow1);
    const int64_t pix = p.a * g.W + p.b;
    float acc = 0.0f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const int64_t o = ((p.n * g.OH + oh) * g.OW + ow) * g.C + p.c;
        if (at[o] == pix) acc += IO::load(dy, o);
      }
    IO::store(dx, i, acc);
  }
}

// y = the mean over the window's positions inside the input: a sum in (ih, iw) order from 0,
// times 1 / count, as cpu avg_pool2d_forward.
template <class IO>
__global__ void avg_pool_forward_kernel(Pool2DGeometry g, const typename IO::T* __restrict__ x,
                                        typename IO::T* __restrict__ y) {
  const int64_t total = g.N * g.OH * g.OW * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.OH, g.OW, g.C);
    const PoolWindow w = pool_window(g, p.a, p.b);
    const typename IO::T* xn = x + p.n * g.H * g.W * g.C + p.c;
    float acc = 0.0f;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) acc += IO::load(xn, (ih * g.W + iw) * g.C);
    const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
    IO::store(y, i, acc * inv);
  }
}

// dx[n, ih, iw, c] = the sum, over the windows holding (ih, iw) in (oh, ow) order, of
// dy * (1 / count), as cpu avg_pool2d_backward adds the shares.
template <class IO>
__global__ void avg_pool_backward_kernel(Pool2DGeometry g, const typename IO::T* __restrict__ dy,
                                         typename IO::T* __restrict__ dx) {
  const int64_t total = g.N * g.H * g.W * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.H, g.W, g.C);
    int64_t oh0, oh1, ow0, ow1;
    pool_windows_containing(p.a, g.stride_h, g.pad_top, g.KH, g.OH, &oh0, &oh1);
    pool_windows_containing(p.b, g.stride_w, g.pad_left, g.KW, g.OW, &ow0, &ow1);
    float acc = 0.0f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const PoolWindow w = pool_window(g, oh, ow);
        const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        acc += IO::load(dy, ((p.n * g.OH + oh) * g.OW + ow) * g.C + p.c) * inv;
      }
    IO::store(dx, i, acc);
  }
}

// y (N, H + top + bottom, W + left + right, C) = x surrounded by zeros.
__global__ void zero_pad_forward_kernel(Pad2DGeometry g, const float* __restrict__ x,
                                        float* __restrict__ y) {
  const int64_t OH = g.H + g.top + g.bottom, OW = g.W + g.left + g.right;
  const int64_t total = g.N * OH * OW * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, OH, OW, g.C);
    const int64_t ih = p.a - g.top, iw = p.b - g.left;
    y[i] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
               ? x[((p.n * g.H + ih) * g.W + iw) * g.C + p.c]
               : 0.0f;
  }
}

// dx = the interior of dy.
__global__ void zero_pad_backward_kernel(Pad2DGeometry g, const float* __restrict__ dy,
                                         float* __restrict__ dx) {
  const int64_t OH = g.H + g.top + g.bottom, OW = g.W + g.left + g.right;
  const int64_t total = g.N * g.H * g.W * g.C;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const Pos4 p = split(i, g.H, g.W, g.C);
    dx[i] = dy[((p.n * OH + p.a + g.top) * OW + p.b + g.left) * g.C + p.c];
  }
}

bool pool_empty(const Pool2DGeometry& g) {
  return g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.OH <= 0 || g.OW <= 0;
}

// The four pooling functions for one storage policy IO (float32 or 16-bit buffers).
template <class IO>
void max_pool_forward(CudaBackend& be, const Pool2DGeometry& g, const void* x, void* y) {
  if (pool_empty(g)) return;
  const int64_t n = g.N * g.OH * g.OW * g.C;
  max_pool_forward_kernel<IO><<<grid_blocks(n), kLaunchThreads, 0, be.stream()>>>(
      g, typed<IO>(x), typed<IO>(y));
  FF_CUDA_LAUNCH_CHECK("max_pool_forward_kernel");
}

template <class IO>
void max_pool_backward(CudaBackend& be, const Pool2DGeometry& g, const void* x, const void* dy,
                       void* dx) {
  if (g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0) return;
  const int64_t in = g.N * g.H * g.W * g.C;
  if (g.OH <= 0 || g.OW <= 0) {  // no window: nothing flows back (the CPU's zeros; +0 bits)
    FF_CUDA_CHECK(cudaMemsetAsync(dx, 0, sizeof(typename IO::T) * static_cast<size_t>(in),
                                  be.stream()));
    return;
  }
  const int64_t out = g.N * g.OH * g.OW * g.C;
  DeviceScratch at(be.device(), sizeof(int64_t) * static_cast<size_t>(out));
  max_pool_argmax_kernel<IO><<<grid_blocks(out), kLaunchThreads, 0, be.stream()>>>(
      g, typed<IO>(x), at.as<int64_t>());
  FF_CUDA_LAUNCH_CHECK("max_pool_argmax_kernel");
  max_pool_backward_kernel<IO><<<grid_blocks(in), kLaunchThreads, 0, be.stream()>>>(
      g, at.as<int64_t>(), typed<IO>(dy), typed<IO>(dx));
  FF_CUDA_LAUNCH_CHECK("max_pool_backward_kernel");
}

template <class IO>
void avg_pool_forward(CudaBackend& be, const Pool2DGeometry& g, const void* x, void* y) {
  if (pool_empty(g)) return;
  const int64_t n = g.N * g.OH * g.OW * g.C;
  avg_pool_forward_kernel<IO><<<grid_blocks(n), kLaunchThreads, 0, be.stream()>>>(
      g, typed<IO>(x), typed<IO>(y));
  FF_CUDA_LAUNCH_CHECK("avg_pool_forward_kernel");
}

template <class IO>
void avg_pool_backward(CudaBackend& be, const Pool2DGeometry& g, const void* dy, void* dx) {
  if (g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0) return;
  const int64_t in = g.N * g.H * g.W * g.C;
  if (g.OH <= 0 || g.OW <= 0) {
    FF_CUDA_CHECK(cudaMemsetAsync(dx, 0, sizeof(typename IO::T) * static_cast<size_t>(in),
                                  be.stream()));
    return;
  }
  avg_pool_backward_kernel<IO><<<grid_blocks(in), kLaunchThreads, 0, be.stream()>>>(
      g, typed<IO>(dy), typed<IO>(dx));
  FF_CUDA_LAUNCH_CHECK("avg_pool_backward_kernel");
}

}  // namespace

void CudaBackend::max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) {
  max_pool_forward<Float32Io>(*this, g, x, y);
}

void CudaBackend::max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy,
                                      float* dx) {
  max_pool_backward<Float32Io>(*this, g, x, dy, dx);
}

void CudaBackend::avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) {
  avg_pool_forward<Float32Io>(*this, g, x, y);
}

void CudaBackend::avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) {
  avg_pool_backward<Float32Io>(*this, g, dy, dx);
}

void CudaBackend::zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y) {
  const int64_t OH = g.H + g.top + g.bottom, OW = g.W + g.left + g.right;
  if (g.N <= 0 || g.C <= 0 || OH <= 0 || OW <= 0) return;
  const int64_t n = g.N * OH * OW * g.C;
  zero_pad_forward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(g, x, y);
  FF_CUDA_LAUNCH_CHECK("zero_pad_forward_kernel");
}

void CudaBackend::zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx) {
  if (g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0) return;
  const int64_t n = g.N * g.H * g.W * g.C;
  zero_pad_backward_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(g, dy, dx);
  FF_CUDA_LAUNCH_CHECK("zero_pad_backward_kernel");
}

// ---- 16-bit storage ----

void CudaBackend::max_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                                          DType half) {
  dispatch_half(half, "max_pool2d_forward_half",
                [&](auto io) { max_pool_forward<decltype(io)>(*this, g, x, y); });
}

void CudaBackend::max_pool2d_backward_half(const Pool2DGeometry& g, const void* x, const void* dy,
                                           void* dx, DType half) {
  dispatch_half(half, "max_pool2d_backward_half",
                [&](auto io) { max_pool_backward<decltype(io)>(*this, g, x, dy, dx); });
}

void CudaBackend::avg_pool2d_forward_half(const Pool2DGeometry& g, const void* x, void* y,
                                          DType half) {
  dispatch_half(half, "avg_pool2d_forward_half",
                [&](auto io) { avg_pool_forward<decltype(io)>(*this, g, x, y); });
}

void CudaBackend::avg_pool2d_backward_half(const Pool2DGeometry& g, const void* dy, void* dx,
                                           DType half) {
  dispatch_half(half, "avg_pool2d_backward_half",
                [&](auto io) { avg_pool_backward<decltype(io)>(*this, g, dy, dx); });
}

}  // namespace ff::cuda
