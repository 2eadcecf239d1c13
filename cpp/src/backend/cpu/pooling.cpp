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
#include <cstring>
#include <vector>

#include "backend/cpu/parallel.h"

namespace ff::cpu {
namespace {

// The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};
inline Window window(const Pool2DGeometry& g, int64_t oh, int64_t ow) {
  const int64_t hs = oh * g.stride_h - g.pad_top, ws = ow * g.stride_w - g.pad_left;
  return {std::max<int64_t>(hs, 0), std::min(hs + g.KH, g.H), std::max<int64_t>(ws, 0),
          std::min(ws + g.KW, g.W)};
}

// out[c] = max(out[c], in[c]), taking in[c] when it is NaN and keeping a NaN already in out.
inline void max_into(float* __restrict out, const float* __restrict in, int64_t n) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) {
    const float v = in[c];
    out[c] = (v > out[c] || v != v) ? v : out[c];
  }
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
  const int64_t C = g.C;
  parallel_for(g.N * g.OH, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      const float* xn = x + n * g.H * g.W * C;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        float* out = y + (r * g.OW + ow) * C;
        const Window w = window(g, oh, ow);
        bool first = true;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            const float* in = xn + (ih * g.W + iw) * C;
            if (first) std::memcpy(out, in, sizeof(float) * C);
            else max_into(out, in, C);
            first = false;
          }
      }
    }
  }, g.N * g.OH * g.OW * C * g.KH * g.KW, 1);
}

void max_pool2d_backward(const Pool2DGeometry& g, const float* x, const float* dy, float* dx) {
  const int64_t C = g.C, in_sample = g.H * g.W * C;
  per_sample(g.N, g.N * g.OH * g.OW * C * g.KH * g.KW, [&](int64_t n) {
    const float* xn = x + n * in_sample;
    float* dxn = dx + n * in_sample;
    std::fill(dxn, dxn + in_sample, 0.0f);
    std::vector<float> best(static_cast<size_t>(C));
    std::vector<int64_t> at(static_cast<size_t>(C));
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Window w = window(g, oh, ow);
        bool first = true;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            const int64_t pos = (ih * g.W + iw) * C;
            const float* in = xn + pos;
            for (int64_t c = 0; c < C; ++c) {
              // Strictly greater keeps the first of equal maxima; the first NaN wins for good.
              if (first || in[c] > best[c] || (std::isnan(in[c]) && !std::isnan(best[c]))) {
                best[c] = in[c];
                at[c] = pos + c;
              }
            }
            first = false;
          }
        const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
        for (int64_t c = 0; c < C; ++c) dxn[at[c]] += d[c];
      }
  });
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
  }, g.N * g.OH * g.OW * C * g.KH * g.KW, 1);
}

void avg_pool2d_backward(const Pool2DGeometry& g, const float* dy, float* dx) {
  const int64_t C = g.C, in_sample = g.H * g.W * C;
  per_sample(g.N, g.N * g.OH * g.OW * C * g.KH * g.KW, [&](int64_t n) {
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
