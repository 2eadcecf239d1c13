// CPU pooling and zero padding (NHWC, float32). Loops run over output pixels with the channel
// axis innermost (contiguous, vectorised); only window positions inside the input take part.
// NaN propagates: a window holding a NaN has a NaN maximum and a NaN mean (frameworks that
// compute max with `a > b ? a : b` silently drop a NaN that is not first; here the comparison
// also takes a NaN). Max-pool backward finds each window's first maximum again from x (ties go
// to the earliest position in (kh, kw) order, a NaN counts as the maximum) instead of storing
// indices. Forward kernels split output rows over threads; backward kernels split samples (each
// sample's dx is written by one thread, windows added in a fixed order): the same bits for any
// thread count.
#include "backend/cpu/pooling.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/parallel.h"
#include "backend/pool_rules.h"

namespace ff::cpu {
namespace {

// The window of output (oh, ow) clipped to the input (backend/pool_rules.h, shared with the
// CUDA kernels).
using Window = PoolWindow;
inline Window window(const Pool2DGeometry& g, int64_t oh, int64_t ow) {
  return pool_window(g, oh, ow);
}

// Positions of a window clipped to the input: at most min(KH, H) x min(KW, W), whatever the
// pool size (a pool_size of (2^31 - 1, 2^31 - 1) must not size a buffer).
inline int64_t window_capacity(const Pool2DGeometry& g) {
  return std::min(g.KH, g.H) * std::min(g.KW, g.W);
}
// The work estimate of the thread split, saturating instead of overflowing.
inline int64_t pool_work(const Pool2DGeometry& g) {
  const double work = static_cast<double>(g.N) * static_cast<double>(g.OH) *
                      static_cast<double>(g.OW) * static_cast<double>(g.C) *
                      static_cast<double>(window_capacity(g));
  return work >= 9.0e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(work);
}

// Offsets (pixel index * C) of the in-input positions of window (oh, ow), row-major; returns
// how many there are.
inline int64_t window_offsets(const Pool2DGeometry& g, int64_t oh, int64_t ow, int64_t* offsets) {
  const Window w = window(g, oh, ow);
  int64_t k = 0;
  for (int64_t ih = w.h0; ih < w.h1; ++ih)
    for (int64_t iw = w.w0; iw < w.w1; ++iw) offsets[k++] = (ih * g.W + iw) * g.C;
  return k;
}

// A value v beats the running maximum b when it is larger, or when it is NaN and b is not (so
// the first NaN wins for good and later values never replace it): pool_rules.h's rule.
inline bool beats(float v, float b) { return pool_beats(v, b); }

// Max pooling's kernels (max_pool_lanes.inc) are written with GCC vector values, which GCC lowers
// to scalar code, before any inlining or cloning, in a function compiled for a target whose
// registers are narrower: target_clones cannot dispatch them (core/cpu_dispatch.h). So in a
// portable build the file is compiled once per instruction set, with 16 lanes for AVX-512, 8 for
// AVX2 and 4 for the baseline's SSE, and max_pool_kernels() picks the set once by what the CPU
// has; otherwise once, with the lanes of the build's own target. scripts/check_isa_baseline.py
// knows the namespaces isa_avx512f and isa_avx2 as code for those sets.
struct MaxPoolKernels {
  void (*row)(const Pool2DGeometry&, const float*, int64_t, float*, int64_t*);
  void (*backward_sample)(const Pool2DGeometry&, const float*, const float*, float*, int64_t*);
};

#if defined(FORGEFLOW_CPU_DISPATCH) && defined(__x86_64__) && defined(__GNUC__) && \
    !defined(__clang__)
#define FF_POOL_DISPATCH 1
namespace isa_avx512f {
#pragma GCC push_options
#pragma GCC target("avx512f")
#define FF_POOL_LANES 16
#include "backend/cpu/max_pool_lanes.inc"
#undef FF_POOL_LANES
#pragma GCC pop_options
}  // namespace isa_avx512f
namespace isa_avx2 {
#pragma GCC push_options
#pragma GCC target("avx2")
#define FF_POOL_LANES 8
#include "backend/cpu/max_pool_lanes.inc"
#undef FF_POOL_LANES
#pragma GCC pop_options
}  // namespace isa_avx2
#endif

namespace own_target {
#if defined(__AVX512F__)
#define FF_POOL_LANES 16
#elif defined(__AVX2__)
#define FF_POOL_LANES 8
#else
#define FF_POOL_LANES 4
#endif
#include "backend/cpu/max_pool_lanes.inc"
#undef FF_POOL_LANES
}  // namespace own_target

const MaxPoolKernels& max_pool_kernels() {
  static const MaxPoolKernels kernels = []() -> MaxPoolKernels {
#ifdef FF_POOL_DISPATCH
    if (__builtin_cpu_supports("avx512f"))
      return {isa_avx512f::max_pool_row, isa_avx512f::max_pool_backward_sample};
    if (__builtin_cpu_supports("avx2"))
      return {isa_avx2::max_pool_row, isa_avx2::max_pool_backward_sample};
#endif
    return {own_target::max_pool_row, own_target::max_pool_backward_sample};
  }();
  return kernels;
}

inline void add_into(float* __restrict out, const float* __restrict in, int64_t n) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) out[c] += in[c];
}

// Calls body(n) for every sample, samples split over threads when the work is large.
template <class Body>
void per_sample(int64_t samples, int64_t work, Body&& body) {
  parallel_for(samples, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) body(n);
  }, work, 1);
}

}  // namespace

void max_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) {
  const auto row = max_pool_kernels().row;
  parallel_for(g.N * g.OH, [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> offsets(static_cast<size_t>(window_capacity(g)));
    for (int64_t r = r0; r < r1; ++r)
      row(g, x + (r / g.OH) * g.H * g.W * g.C, r % g.OH, y + r * g.OW * g.C, offsets.data());
  }, pool_work(g), 1);
}

void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy, float* dx) {
  const auto backward_sample = max_pool_kernels().backward_sample;
  const int64_t in_sample = g.H * g.W * g.C, out_sample = g.OH * g.OW * g.C;
  parallel_for(g.N, [&](int64_t n0, int64_t n1) {
    std::vector<int64_t> offsets(static_cast<size_t>(window_capacity(g)));
    for (int64_t n = n0; n < n1; ++n)
      backward_sample(g, x + n * in_sample, dy + n * out_sample, dx + n * in_sample,
                      offsets.data());
  }, pool_work(g), 1);
}

void avg_pool2d_forward(const Pool2DGeometry& g, const float* x, float* y) {
  const int64_t C = g.C;
  parallel_for(g.N * g.OH, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      const float* xn = x + n * g.H * g.W * C;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        float* out = y + (r * g.OW + ow) * C;
        const Window w = window(g, oh, ow);
        std::fill(out, out + C, 0.0f);
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) add_into(out, xn + (ih * g.W + iw) * C, C);
        const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        for (int64_t c = 0; c < C; ++c) out[c] *= inv;
      }
    }
  }, pool_work(g), 1);
}

void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) {
  const int64_t C = g.C, in_sample = g.H * g.W * C;
  per_sample(g.N, pool_work(g), [&](int64_t n) {
    float* dxn = dx + n * in_sample;
    std::fill(dxn, dxn + in_sample, 0.0f);
    std::vector<float> share(static_cast<size_t>(C));
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Window w = window(g, oh, ow);
        const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
        for (int64_t c = 0; c < C; ++c) share[c] = d[c] * inv;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw)
            add_into(dxn + (ih * g.W + iw) * C, share.data(), C);
      }
  });
}

void zero_pad2d_forward(const Pad2DGeometry& g, const float* x, float* y) {
  const int64_t C = g.C, OH = g.H + g.top + g.bottom, OW = g.W + g.left + g.right;
  parallel_for(g.N * OH, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / OH, ih = r % OH - g.top;
      float* out = y + r * OW * C;
      if (ih < 0 || ih >= g.H) {
        std::fill(out, out + OW * C, 0.0f);
        continue;
      }
      std::fill(out, out + g.left * C, 0.0f);
      std::memcpy(out + g.left * C, x + (n * g.H + ih) * g.W * C, sizeof(float) * g.W * C);
      std::fill(out + (g.left + g.W) * C, out + OW * C, 0.0f);
    }
  }, g.N * OH * OW * C, 1);
}

void zero_pad2d_backward(const Pad2DGeometry& g, const float* dy, float* dx) {
  const int64_t C = g.C, OH = g.H + g.top + g.bottom, OW = g.W + g.left + g.right;
  parallel_for(g.N * g.H, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.H, ih = r % g.H;
      std::memcpy(dx + r * g.W * C, dy + ((n * OH + ih + g.top) * OW + g.left) * C,
                  sizeof(float) * g.W * C);
    }
  }, g.N * g.H * g.W * C, 1);
}

}  // namespace ff::cpu
