// CPU convolution (NHWC, float32): im2col + the backend's GEMM.
//
// The batch is processed in chunks of samples whose column matrix stays near kColumnBudget
// bytes (cache-sized; the chunk size depends on the geometry only, never on the thread count).
//   forward          col = im2col(x chunk); y chunk = col (rows x K) * kernel (K x F)
//   backward filter  dkernel += col^T * dy chunk (chunks added in order)
//   backward data    dcol = dy chunk * kernel^T; dx = col2im(dcol), written as a gather (each
//                    input pixel sums its own window taps in a fixed order): no races, the same
//                    bits for any number of threads.
// K = KH*KW*C, the kernel's (kh, kw, c) rows in Keras's (KH, KW, C, F) layout, so no kernel
// transpose is ever needed. A 1x1 kernel with stride 1 and no padding skips im2col entirely.
// im2col/col2im split rows over OpenMP threads (cpu::parallel_for); the GEMM threads itself.
#include "backend/cpu/conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "backend/cpu/parallel.h"

namespace ff::cpu {
namespace {

constexpr int64_t kColumnBudget = int64_t{4} << 20;  // bytes of column matrix per chunk

// A grow-only, 64-byte aligned buffer per calling thread (the model's step runs on one thread;
// concurrent predict calls from several threads each get their own).
float* workspace(int64_t floats) {
  struct Buffer {
    float* ptr = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(ptr); }
  };
  thread_local Buffer buf;
  if (buf.size < floats) {
    std::free(buf.ptr);
    buf.ptr = nullptr;
    buf.size = 0;
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
    buf.ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buf.ptr) throw std::bad_alloc();
    buf.size = floats;
  }
  return buf.ptr;
}

bool pointwise(const Conv2DGeometry& g) {
  return g.KH == 1 && g.KW == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.OH == g.H && g.OW == g.W;
}

int64_t taps(const Conv2DGeometry& g) { return g.KH * g.KW * g.C; }

int64_t chunk_samples(const Conv2DGeometry& g) {
  const int64_t per_sample = g.OH * g.OW * taps(g) * static_cast<int64_t>(sizeof(float));
  return std::max<int64_t>(1, std::min<int64_t>(g.N, kColumnBudget / std::max<int64_t>(per_sample, 1)));
}

inline void copy_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void zero_floats(float* dst, int64_t n) { std::memset(dst, 0, sizeof(float) * n); }
inline void add_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Column rows for the (sample, output row) pairs [r0, r1) of a chunk starting at sample n0:
// col[(r*OW + ow), (kh, kw, c)] = x[n0 + r/OH, ih, iw, c], zero outside the input.
void im2col_rows(const Conv2DGeometry& g, const float* x, float* col, int64_t n0, int64_t r0,
                 int64_t r1) {
  const int64_t K = taps(g), C = g.C, KWC = g.KW * g.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = n0 + r / g.OH, oh = r % g.OH;
    const float* xn = x + n * g.H * g.W * C;
    float* out = col + r * g.OW * K;
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      float* o = out + ow * K;
      const int64_t iw0 = ow * g.stride_w - g.pad_left;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
        float* ok = o + kh * KWC;
        if (ih < 0 || ih >= g.H) {
          zero_floats(ok, KWC);
          continue;
        }
        const float* row = xn + ih * g.W * C;
        if (g.dilation_w == 1) {
          // The taps kw = 0..KW-1 are consecutive pixels: one run of in-range values.
          const int64_t lo = std::max<int64_t>(0, -iw0), hi = std::min<int64_t>(g.KW, g.W - iw0);
          if (lo >= hi) {
            zero_floats(ok, KWC);
            continue;
          }
          if (lo > 0) zero_floats(ok, lo * C);
          copy_floats(ok + lo * C, row + (iw0 + lo) * C, (hi - lo) * C);
          if (hi < g.KW) zero_floats(ok + hi * C, (g.KW - hi) * C);
          continue;
        }
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t iw = iw0 + kw * g.dilation_w;
          if (iw < 0 || iw >= g.W) zero_floats(ok + kw * C, C);
          else copy_floats(ok + kw * C, row + iw * C, C);
        }
      }
    }
  }
}

// dx rows (sample, input row) [r0, r1) of a chunk starting at sample n0 (dx already offset to
// it): each input pixel gathers the dcol entries of the taps that read it, kh then kw.
void col2im_rows(const Conv2DGeometry& g, const float* dcol, float* dx, int64_t r0, int64_t r1) {
  const int64_t K = taps(g), C = g.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.H, ih = r % g.H;
    const float* dn = dcol + n * g.OH * g.OW * K;
    float* out = dx + r * g.W * C;
    zero_floats(out, g.W * C);
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t t = ih + g.pad_top - kh * g.dilation_h;
      if (t < 0 || t % g.stride_h != 0) continue;
      const int64_t oh = t / g.stride_h;
      if (oh >= g.OH) continue;
      for (int64_t iw = 0; iw < g.W; ++iw) {
        float* o = out + iw * C;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t u = iw + g.pad_left - kw * g.dilation_w;
          if (u < 0 || u % g.stride_w != 0) continue;
          const int64_t ow = u / g.stride_w;
          if (ow >= g.OW) continue;
          add_floats(o, dn + (oh * g.OW + ow) * K + (kh * g.KW + kw) * C, C);
        }
      }
    }
  }
}

}  // namespace

void conv2d_forward(Backend& be, const Conv2DGeometry& g, const float* x, const float* kernel,
                    float* y) {
  if (g.N == 0) return;
  if (pointwise(g)) {
    be.gemm(false, false, g.N * g.H * g.W, g.F, g.C, 1.0f, x, g.C, kernel, g.F, 0.0f, y, g.F);
    return;
  }
  const int64_t K = taps(g), chunk = chunk_samples(g), pix = g.OH * g.OW;
  float* col = workspace(chunk * pix * K);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
    parallel_for(nc * g.OH, [&](int64_t r0, int64_t r1) { im2col_rows(g, x, col, n0, r0, r1); },
                 nc * pix * K, 1);
    be.gemm(false, false, nc * pix, g.F, K, 1.0f, col, K, kernel, g.F, 0.0f, y + n0 * pix * g.F,
            g.F);
  }
}

void conv2d_backward_filter(Backend& be, const Conv2DGeometry& g, const float* x,
                            const float* dy, float* dkernel) {
  const int64_t K = taps(g), pix = g.OH * g.OW;
  if (g.N == 0) {
    std::fill(dkernel, dkernel + K * g.F, 0.0f);
    return;
  }
  if (pointwise(g)) {
    be.gemm(true, false, g.C, g.F, g.N * pix, 1.0f, x, g.C, dy, g.F, 0.0f, dkernel, g.F);
    return;
  }
  const int64_t chunk = chunk_samples(g);
  float* col = workspace(chunk * pix * K);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
    parallel_for(nc * g.OH, [&](int64_t r0, int64_t r1) { im2col_rows(g, x, col, n0, r0, r1); },
                 nc * pix * K, 1);
    be.gemm(true, false, K, g.F, nc * pix, 1.0f, col, K, dy + n0 * pix * g.F, g.F,
            n0 == 0 ? 0.0f : 1.0f, dkernel, g.F);
  }
}

void conv2d_backward_data(Backend& be, const Conv2DGeometry& g, const float* dy,
                          const float* kernel, float* dx) {
  if (g.N == 0) return;
  if (pointwise(g)) {
    be.gemm(false, true, g.N * g.H * g.W, g.C, g.F, 1.0f, dy, g.F, kernel, g.F, 0.0f, dx, g.C);
    return;
  }
  const int64_t K = taps(g), chunk = chunk_samples(g), pix = g.OH * g.OW;
  float* dcol = workspace(chunk * pix * K);
  for (int64_t n0 = 0; n0 < g.N; n0 += chunk) {
    const int64_t nc = std::min(chunk, g.N - n0);
    be.gemm(false, true, nc * pix, K, g.F, 1.0f, dy + n0 * pix * g.F, g.F, kernel, g.F, 0.0f,
            dcol, K);
    float* dxc = dx + n0 * g.H * g.W * g.C;
    parallel_for(nc * g.H, [&](int64_t r0, int64_t r1) { col2im_rows(g, dcol, dxc, r0, r1); },
                 nc * pix * K, 1);
  }
}

}  // namespace ff::cpu
