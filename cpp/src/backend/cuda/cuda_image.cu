// The CUDA backend's image augmentation kernels (RandomFlip, RandomTranslation, RandomZoom,
// RandomRotation): the affine resampling forward and its exact adjoint, flips, and the random
// draws of flags and matrices. Every rule is the CPU's own FF_HD function (backend/image_taps.h
// for the taps, backend/random_transforms.h for the draws, keyed by the step-state block's
// rng_stream read on the device), applied in the CPU's order (cpu/image.cpp), so the results have
// the CPU's bits (this file is compiled with --fmad=false; the rotation's double cos/sin are
// CUDA's, within an ulp of the host's before the rounding to float).
//
// The adjoint cannot gather cheaply (a tap of any output pixel may land anywhere in its sample
// under wrap or reflect), and it must not scatter with atomics: one thread owns one (sample,
// channel) plane of dx, zeroes it, and adds the taps of every output pixel in raster order and
// tap order, the CPU's order for every element, so the sums are the CPU's, bit for bit, on every
// run. Nothing here synchronises or reads to the host (the step is captured as a CUDA graph).
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_launch.cuh"
#include "backend/image_taps.h"
#include "backend/random_transforms.h"

namespace ff::cuda {
namespace {

// y[s, row, col, ch] = sum over the taps of output pixel (row, col), in order from 0, of weight
// * (x at the tap, or fill_value): the CPU's sum.
__global__ void affine_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                      int64_t n, int64_t h, int64_t w, int64_t c,
                                      const float* __restrict__ transforms,
                                      Interpolation interpolation, FillMode fill_mode,
                                      float fill_value) {
  const int64_t total = n * h * w * c;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t ch = i % c, pix = i / c;
    const int64_t col = pix % w, row = (pix / w) % h, s = pix / (w * h);
    const ImageTaps t =
        image_taps(transforms + 6 * s, row, col, h, w, interpolation, fill_mode);
    const float* xs = x + s * h * w * c + ch;
    float acc = 0.0f;
    for (int k = 0; k < t.count; ++k)
      acc += t.offset[k] < 0 ? t.weight[k] * fill_value : t.weight[k] * xs[t.offset[k] * c];
    y[i] = acc;
  }
}

// One thread per (sample, channel) plane of dx: zeroed, then dx[tap] += weight * dy[pixel] for
// every output pixel in raster order and its taps in order (fill_value taps carry nothing).
__global__ void affine_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                       int64_t n, int64_t h, int64_t w, int64_t c,
                                       const float* __restrict__ transforms,
                                       Interpolation interpolation, FillMode fill_mode) {
  const int64_t planes = n * c;
  for (int64_t p = first_index(); p < planes; p += grid_stride()) {
    const int64_t s = p / c, ch = p % c;
    float* dxs = dx + s * h * w * c + ch;
    const float* dys = dy + s * h * w * c + ch;
    const float* m = transforms + 6 * s;
    for (int64_t q = 0; q < h * w; ++q) dxs[q * c] = 0.0f;
    for (int64_t row = 0; row < h; ++row)
      for (int64_t col = 0; col < w; ++col) {
        const ImageTaps t = image_taps(m, row, col, h, w, interpolation, fill_mode);
        const float g = dys[(row * w + col) * c];
        for (int k = 0; k < t.count; ++k) {
          if (t.offset[k] < 0) continue;  // fill_value is a constant: no gradient
          float& d = dxs[t.offset[k] * c];
          d += t.weight[k] * g;
        }
      }
  }
}

// y[s, row, col] = x[s, row or h-1-row, col or w-1-col] by the sample's flags.
__global__ void flip_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n,
                            int64_t h, int64_t w, int64_t c, const float* __restrict__ flips) {
  const int64_t total = n * h * w * c;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t ch = i % c, pix = i / c;
    const int64_t col = pix % w, row = (pix / w) % h, s = pix / (w * h);
    const bool horizontal = flips[2 * s] != 0.0f, vertical = flips[2 * s + 1] != 0.0f;
    const int64_t src_row = vertical ? h - 1 - row : row;
    const int64_t src_col = horizontal ? w - 1 - col : col;
    y[i] = x[((s * h + src_row) * w + src_col) * c + ch];
  }
}

__global__ void random_flips_kernel(FlipSpec spec, int64_t n, float* __restrict__ flags,
                                    const StepState* __restrict__ state) {
  const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
  for (int64_t i = first_index(); i < n; i += grid_stride())
    flip_flags(spec, stream, i, flags + 2 * i);
}

__global__ void random_affine_kernel(AffineSpec spec, int64_t n, int64_t h, int64_t w,
                                     float* __restrict__ matrices,
                                     const StepState* __restrict__ state) {
  const uint64_t stream = static_cast<uint64_t>(state->rng_stream);
  for (int64_t i = first_index(); i < n; i += grid_stride())
    affine_matrix(spec, stream, i, h, w, matrices + 6 * i);
}

}  // namespace

void CudaBackend::affine_transform_images(const float* x, float* y, int64_t n, int64_t h,
                                          int64_t w, int64_t c, const float* transforms,
                                          Interpolation interpolation, FillMode fill_mode,
                                          float fill_value) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  affine_forward_kernel<<<grid_blocks(n * h * w * c), kLaunchThreads, 0, stream()>>>(
      x, y, n, h, w, c, transforms, interpolation, fill_mode, fill_value);
  FF_CUDA_LAUNCH_CHECK("affine_forward_kernel");
}

void CudaBackend::affine_transform_images_backward(const float* dy, float* dx, int64_t n,
                                                   int64_t h, int64_t w, int64_t c,
                                                   const float* transforms,
                                                   Interpolation interpolation,
                                                   FillMode fill_mode) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  affine_backward_kernel<<<grid_blocks(n * c), kLaunchThreads, 0, stream()>>>(
      dy, dx, n, h, w, c, transforms, interpolation, fill_mode);
  FF_CUDA_LAUNCH_CHECK("affine_backward_kernel");
}

void CudaBackend::flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w,
                              int64_t c, const float* flips) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  flip_kernel<<<grid_blocks(n * h * w * c), kLaunchThreads, 0, stream()>>>(x, y, n, h, w, c,
                                                                          flips);
  FF_CUDA_LAUNCH_CHECK("flip_kernel");
}

void CudaBackend::random_flips(const FlipSpec& spec, int64_t n, float* flags,
                               const StepState* state) {
  if (n <= 0) return;
  random_flips_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(spec, n, flags, state);
  FF_CUDA_LAUNCH_CHECK("random_flips_kernel");
}

void CudaBackend::random_affine_matrices(const AffineSpec& spec, int64_t n, int64_t h, int64_t w,
                                         float* matrices, const StepState* state) {
  if (n <= 0) return;
  random_affine_kernel<<<grid_blocks(n), kLaunchThreads, 0, stream()>>>(spec, n, h, w, matrices,
                                                                        state);
  FF_CUDA_LAUNCH_CHECK("random_affine_kernel");
}

}  // namespace ff::cuda
