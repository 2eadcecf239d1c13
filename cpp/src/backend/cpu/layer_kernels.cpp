// CPU kernels of the ReLU, PReLU, UpSampling2D and LayerNormalization layers and of the
// depthwise convolution (see layer_kernels.h). Every sum has a fixed order, the one the CUDA
// kernels (cuda/cuda_layer_kernels.cu) use: PReLU's alpha gradient over member chunks of
// kPReluChunk, LayerNormalization's row statistics in the 32-lane order of a CUDA warp and its
// gamma/beta gradients over row chunks, UpSampling2D's adjoint gathered in output raster order,
// the depthwise windows in (kh, kw) order, their data gradient gathered in (kh, kw, m) order and
// their kernel gradient over chunks of kDepthwiseChunk output positions. So the two
// backends give the same bits (the core is compiled with -ffp-contract=off, the CUDA files with
// --fmad=false), and the thread count never changes a result.
#include "backend/cpu/layer_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/parallel.h"

namespace ff::cpu {
namespace {

// ---- LayerNormalization's 32-lane order ----
constexpr int kLanes = 32;

// sum over c in [0, cols) of f(c) in double, in a CUDA warp's order: lane l adds the columns
// l, l + 32, ... in order from 0.0, then the lanes combine by the butterfly (each lane adds the
// lane m apart for m = 16, 8, 4, 2, 1; every lane ends with the same value).
template <class F>
double lane_sum(int64_t cols, F&& f) {
  double p[kLanes] = {};
  for (int64_t c = 0; c < cols; ++c) p[c % kLanes] += f(c);
  for (int m = kLanes / 2; m > 0; m >>= 1) {
    double q[kLanes];
    for (int l = 0; l < kLanes; ++l) q[l] = p[l] + p[l ^ m];
    std::copy(q, q + kLanes, p);
  }
  return p[0];
}

// Row chunks of the gamma/beta gradient: the BatchNormalization kernels' chunking for
// 2 * cols accumulators per row (kReduceChunk values per chunk).
int64_t chunk_rows(int64_t cols) { return std::max<int64_t>(1, kReduceChunk / (2 * cols)); }

// dalpha: the members of each alpha value in order within chunks of kPReluChunk, in double, then
// the chunks in order.
void prelu_alpha_gradient(const PReluGeometry& g, const float* x, const float* dy,
                          float* dalpha) {
  const int64_t members = g.rows * (g.sample / g.alpha_size);
  const int64_t chunks = (members + kPReluChunk - 1) / kPReluChunk;
  // partial[k * alpha_size + a]: members [k * kPReluChunk, ...) of alpha value a, in order.
  std::vector<double> partial(static_cast<size_t>(chunks * g.alpha_size), 0.0);
  parallel_for(chunks * g.alpha_size, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t k = t / g.alpha_size, a = t % g.alpha_size;
      const int64_t m1 = std::min(members, (k + 1) * kPReluChunk);
      double acc = 0.0;
      for (int64_t m = k * kPReluChunk; m < m1; ++m) {
        const int64_t i = prelu_member_index(g, m, a);
        const double neg = x[i] < 0.0f ? static_cast<double>(x[i]) : 0.0;
        acc += static_cast<double>(dy[i]) * neg;
      }
      partial[t] = acc;
    }
  }, members * 4, 1);
  for (int64_t a = 0; a < g.alpha_size; ++a) {
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[k * g.alpha_size + a];
    dalpha[a] = static_cast<float>(s);
  }
}

}  // namespace

void relu_forward(const float* x, float* y, int64_t n, float max_value, float negative_slope,
                  float threshold) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = relu_rule(x[i], max_value, negative_slope, threshold);
  });
}

void relu_backward(const float* x, const float* dy, float* dx, int64_t n, float max_value,
                   float negative_slope, float threshold) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      dx[i] = relu_grad_rule(x[i], max_value, negative_slope, threshold, dy[i]);
  });
}

void prelu_forward(const PReluGeometry& g, const float* x, const float* alpha, float* y) {
  parallel_for(g.rows * g.sample, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = prelu_rule(x[i], alpha[prelu_alpha_index(g, i)]);
  });
}

void prelu_backward(const PReluGeometry& g, const float* x, const float* alpha, const float* dy,
                    float* dx, float* dalpha) {
  if (g.alpha_size <= 0 || g.sample <= 0) return;
  if (dalpha) prelu_alpha_gradient(g, x, dy, dalpha);  // first: dx may be dy's buffer
  if (dx)
    parallel_for(g.rows * g.sample, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        dx[i] = prelu_grad_rule(x[i], alpha[prelu_alpha_index(g, i)], dy[i]);
    });
}

void upsample2d_forward(const Upsample2DGeometry& g, const float* x, float* y) {
  const int64_t OH = g.H * g.size_h, OW = g.W * g.size_w, C = g.C;
  parallel_for(g.N * OH * OW, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ow = p % OW, oh = (p / OW) % OH, n = p / (OW * OH);
      float* out = y + p * C;
      const float* xs = x + n * g.H * g.W * C;
      if (!g.bilinear) {
        const float* in = xs + ((oh / g.size_h) * g.W + ow / g.size_w) * C;
        std::copy(in, in + C, out);
        continue;
      }
      const ResizeTaps ty = upsample_taps(oh, g.H, g.size_h);
      const ResizeTaps tx = upsample_taps(ow, g.W, g.size_w);
      const float* tl = xs + (ty.lower * g.W + tx.lower) * C;
      const float* tr = xs + (ty.lower * g.W + tx.upper) * C;
      const float* bl = xs + (ty.upper * g.W + tx.lower) * C;
      const float* br = xs + (ty.upper * g.W + tx.upper) * C;
      for (int64_t c = 0; c < C; ++c) {
        const float top = tl[c] + (tr[c] - tl[c]) * tx.lerp;
        const float bottom = bl[c] + (br[c] - bl[c]) * tx.lerp;
        out[c] = top + (bottom - top) * ty.lerp;
      }
    }
  }, g.N * OH * OW * C, 1);
}

void upsample2d_backward(const Upsample2DGeometry& g, const float* dy, float* dx) {
  const int64_t OH = g.H * g.size_h, OW = g.W * g.size_w, C = g.C;
  parallel_for(g.N * g.H * g.W, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t iw = p % g.W, ih = (p / g.W) % g.H, n = p / (g.W * g.H);
      const float* dys = dy + n * OH * OW * C;
      float* out = dx + p * C;
      for (int64_t c = 0; c < C; ++c) {
        float acc = 0.0f;
        if (!g.bilinear) {
          for (int64_t a = 0; a < g.size_h; ++a)
            for (int64_t b = 0; b < g.size_w; ++b)
              acc += dys[((ih * g.size_h + a) * OW + iw * g.size_w + b) * C + c];
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
              inner += wx * dys[(oh * OW + ow) * C + c];
            }
            acc += wy * inner;
          }
        }
        out[c] = acc;
      }
    }
  }, g.N * OH * OW * C, 1);
}

void layer_norm_forward(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
                        const float* beta, float epsilon, float* saved_mean,
                        float* saved_inv_std) {
  if (cols <= 0) return;
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      const double mean =
          lane_sum(cols, [&](int64_t c) { return static_cast<double>(xr[c]); }) /
          static_cast<double>(cols);
      const double var = lane_sum(cols, [&](int64_t c) {
                           const double d = static_cast<double>(xr[c]) - mean;
                           return d * d;
                         }) /
                         static_cast<double>(cols);
      const float m = static_cast<float>(mean);
      const float s = static_cast<float>(1.0 / std::sqrt(var + epsilon));
      if (saved_mean) saved_mean[r] = m;
      if (saved_inv_std) saved_inv_std[r] = s;
      for (int64_t c = 0; c < cols; ++c) {
        const float xhat = (xr[c] - m) * s;
        const float v = gamma ? xhat * gamma[c] : xhat;
        yr[c] = beta ? v + beta[c] : v;
      }
    }
  });
}

void layer_norm_backward(const float* x, const float* dy, int64_t rows, int64_t cols,
                         const float* gamma, const float* saved_mean, const float* saved_inv_std,
                         float* dx, float* dgamma, float* dbeta) {
  if (cols <= 0) return;
  if (dgamma || dbeta) {
    const int64_t per = chunk_rows(cols);
    const int64_t chunks = (rows + per - 1) / per;
    // partial[k, c]: sum dy; partial[k, cols + c]: sum dy * xhat, over the rows of chunk k.
    std::vector<double> partial(static_cast<size_t>(chunks * 2 * cols), 0.0);
    parallel_for(chunks * cols, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t k = t / cols, c = t % cols;
        const int64_t end = std::min(rows, (k + 1) * per);
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
    }, rows * cols, 1);
    for (int64_t c = 0; c < cols; ++c) {
      double sg = 0.0, sgx = 0.0;
      for (int64_t k = 0; k < chunks; ++k) {
        sg += partial[k * 2 * cols + c];
        sgx += partial[k * 2 * cols + cols + c];
      }
      if (dbeta) dbeta[c] = static_cast<float>(sg);
      if (dgamma) dgamma[c] = static_cast<float>(sgx);
    }
  }
  if (!dx) return;
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      const float m = saved_mean[r], s = saved_inv_std[r];
      auto xhat = [&](int64_t c) { return (xr[c] - m) * s; };
      auto grad = [&](int64_t c) { return gamma ? dyr[c] * gamma[c] : dyr[c]; };
      const double sum_g = lane_sum(cols, [&](int64_t c) { return static_cast<double>(grad(c)); });
      const double sum_gx = lane_sum(cols, [&](int64_t c) {
        return static_cast<double>(grad(c)) * static_cast<double>(xhat(c));
      });
      const float mg = static_cast<float>(sum_g / static_cast<double>(cols));
      const float mgx = static_cast<float>(sum_gx / static_cast<double>(cols));
      float* dxr = dx + r * cols;
      for (int64_t c = 0; c < cols; ++c) dxr[c] = s * (grad(c) - mg - xhat(c) * mgx);
    }
  });
}

void depthwise_conv2d_forward(const Conv2DGeometry& g, const float* x, const float* kernel,
                              float* y) {
  const int64_t C = g.C, M = g.F;
  parallel_for(g.N * g.OH * g.OW, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ow = p % g.OW, oh = (p / g.OW) % g.OH, n = p / (g.OW * g.OH);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t m = 0; m < M; ++m) {
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
          y[p * C * M + c * M + m] = acc;
        }
    }
  }, g.N * g.OH * g.OW * C * M * g.KH * g.KW, 1);
}

void depthwise_conv2d_backward_data(const Conv2DGeometry& g, const float* dy, const float* kernel,
                                    float* dx) {
  const int64_t C = g.C, M = g.F;
  parallel_for(g.N * g.H * g.W, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t iw = p % g.W, ih = (p / g.W) % g.H, n = p / (g.W * g.H);
      for (int64_t c = 0; c < C; ++c) {
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
        dx[p * C + c] = acc;
      }
    }
  }, g.N * g.H * g.W * C * M * g.KH * g.KW, 1);
}

void depthwise_conv2d_backward_filter(const Conv2DGeometry& g, const float* x, const float* dy,
                                      float* dkernel) {
  const int64_t C = g.C, M = g.F, taps = g.KH * g.KW * C * M;
  const int64_t positions = g.N * g.OH * g.OW;
  const int64_t chunks = (positions + kDepthwiseChunk - 1) / kDepthwiseChunk;
  // partial[k * taps + t]: positions [k * kDepthwiseChunk, ...) of tap t, in order.
  std::vector<double> partial(static_cast<size_t>(chunks * taps), 0.0);
  parallel_for(chunks * taps, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t k = i / taps, t = i % taps;
      const int64_t m = t % M, c = (t / M) % C, kw = (t / (M * C)) % g.KW, kh = t / (M * C * g.KW);
      const int64_t end = std::min(positions, (k + 1) * kDepthwiseChunk);
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
  }, positions * taps, 1);
  for (int64_t t = 0; t < taps; ++t) {
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[k * taps + t];
    dkernel[t] = static_cast<float>(s);
  }
}

}  // namespace ff::cpu
